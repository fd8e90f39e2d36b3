package scenario

import (
	"math"
	"strconv"
)

// city is one row of the embedded world-city table. UTC offsets are standard time; the simulation
// ignores daylight saving, which shifts working hours by at most an hour.
type city struct {
	Name, State, Country, Postal string
	Lat, Lon                     float64
	Offset                       int // minutes east of UTC
	ISPs                         []int
	Mobile                       int // index of the mobile carrier in networks
}

// netKind classifies a network for realism and for the attack storylines.
type netKind uint8

const (
	netResidential netKind = iota
	netMobile
	netBusiness
	netHosting
	netVPN
	netTor
)

// network is an autonomous system with a synthetic /16 the simulation draws addresses from.
type network struct {
	ASN      int64
	Org, ISP string
	Domain   string
	Kind     netKind
	Prefix   [2]byte
	Service  string // ipServiceCategories type for anonymizers ("VPN", "Tor", "Proxy")
	Operator string
}

// networks lists the ASNs the simulation uses. Prefixes are synthetic and chosen by the simulation;
// they are not the networks' real address space.
var networks = []network{
	0:  {7922, "comcast cable communications, llc", "comcast cable", "comcast.net", netResidential, [2]byte{73, 42}, "", ""},
	1:  {701, "verizon business", "verizon fios", "verizon.net", netResidential, [2]byte{71, 105}, "", ""},
	2:  {7018, "at&t services, inc.", "at&t internet", "att.net", netResidential, [2]byte{99, 38}, "", ""},
	3:  {20115, "charter communications", "spectrum", "spectrum.com", netResidential, [2]byte{76, 91}, "", ""},
	4:  {21928, "t-mobile usa, inc.", "t-mobile usa", "tmobile.com", netMobile, [2]byte{172, 58}, "", ""},
	5:  {812, "rogers communications canada inc.", "rogers", "rogers.com", netResidential, [2]byte{99, 231}, "", ""},
	6:  {577, "bell canada", "bell canada", "bell.ca", netMobile, [2]byte{142, 117}, "", ""},
	7:  {2856, "british telecommunications plc", "bt", "bt.com", netResidential, [2]byte{86, 150}, "", ""},
	8:  {5089, "virgin media limited", "virgin media", "virginmedia.com", netResidential, [2]byte{82, 21}, "", ""},
	9:  {3320, "deutsche telekom ag", "deutsche telekom", "telekom.de", netResidential, [2]byte{91, 54}, "", ""},
	10: {3209, "vodafone gmbh", "vodafone germany", "vodafone.de", netMobile, [2]byte{88, 64}, "", ""},
	11: {3215, "orange s.a.", "orange", "orange.fr", netResidential, [2]byte{90, 12}, "", ""},
	12: {33915, "vodafone libertel b.v.", "ziggo", "ziggo.nl", netResidential, [2]byte{84, 86}, "", ""},
	13: {3352, "telefonica de espana", "movistar", "telefonica.es", netResidential, [2]byte{83, 46}, "", ""},
	14: {4713, "ntt communications corporation", "ocn", "ocn.ne.jp", netResidential, [2]byte{118, 8}, "", ""},
	15: {1221, "telstra limited", "telstra", "telstra.net", netResidential, [2]byte{110, 144}, "", ""},
	16: {9498, "bharti airtel ltd.", "airtel broadband", "airtel.in", netResidential, [2]byte{122, 161}, "", ""},
	17: {7473, "singapore telecommunications ltd", "singtel", "singtel.com", netResidential, [2]byte{116, 14}, "", ""},
	18: {28573, "claro nxt telecomunicacoes ltda", "claro brasil", "claro.com.br", netResidential, [2]byte{177, 32}, "", ""},
	19: {2519, "arteria networks corporation", "arteria", "arteria-net.com", netMobile, [2]byte{60, 65}, "", ""},
	20: {2914, "ntt america, inc.", "ntt america", "ntt.net", netBusiness, [2]byte{128, 241}, "", ""},
	// Hosting, VPN and Tor networks: attackers' infrastructure in the storylines.
	21: {14061, "digitalocean, llc", "digitalocean", "digitalocean.com", netHosting, [2]byte{159, 203}, "", ""},
	22: {16276, "ovh sas", "ovh sas", "ovh.net", netHosting, [2]byte{51, 75}, "", ""},
	23: {24940, "hetzner online gmbh", "hetzner online", "your-server.de", netHosting, [2]byte{95, 216}, "", ""},
	24: {20473, "the constant company, llc", "vultr", "vultr.com", netHosting, [2]byte{45, 76}, "", ""},
	25: {9009, "m247 europe srl", "m247", "m247.com", netVPN, [2]byte{89, 187}, "VPN", "NORD_VPN"},
	26: {60068, "datacamp limited", "cdn77", "cdn77.com", netVPN, [2]byte{185, 59}, "VPN", "EXPRESS_VPN"},
	27: {208323, "foundation for applied privacy", "applied privacy", "appliedprivacy.net", netTor, [2]byte{109, 70}, "Tor", "TOR"},
	28: {53667, "frantech solutions", "buyvm", "frantech.ca", netTor, [2]byte{209, 141}, "Tor", "TOR"},
	29: {63949, "akamai connected cloud", "linode", "linode.com", netHosting, [2]byte{172, 105}, "", ""},
	30: {396982, "google llc", "google cloud", "googleusercontent.com", netHosting, [2]byte{34, 86}, "Proxy", "GOOGLE_CLOUD"},
}

// hostileNetworks indexes networks attackers operate from.
var hostileNetworks = []int{21, 22, 23, 24, 25, 26, 27, 28, 29}

// cities is the embedded world-city table: offices and homes of the workforce, and attack origins.
var cities = []city{
	0:  {"San Francisco", "California", "United States", "94105", 37.7852, -122.3874, -480, []int{0, 2, 3}, 4},
	1:  {"New York", "New York", "United States", "10013", 40.7157, -74.0100, -300, []int{1, 3, 0}, 4},
	2:  {"Austin", "Texas", "United States", "78701", 30.2711, -97.7437, -360, []int{2, 3}, 4},
	3:  {"Seattle", "Washington", "United States", "98101", 47.6101, -122.3344, -480, []int{0, 3}, 4},
	4:  {"Chicago", "Illinois", "United States", "60601", 41.8864, -87.6186, -360, []int{0, 2}, 4},
	5:  {"Denver", "Colorado", "United States", "80202", 39.7525, -104.9995, -420, []int{0, 3}, 4},
	6:  {"Boston", "Massachusetts", "United States", "02110", 42.3572, -71.0537, -300, []int{0, 1}, 4},
	7:  {"Atlanta", "Georgia", "United States", "30303", 33.7529, -84.3902, -300, []int{2, 0}, 4},
	8:  {"Toronto", "Ontario", "Canada", "M5H", 43.6511, -79.3832, -300, []int{5}, 6},
	9:  {"Vancouver", "British Columbia", "Canada", "V6B", 49.2827, -123.1207, -480, []int{5}, 6},
	10: {"London", "England", "United Kingdom", "EC2V", 51.5155, -0.0922, 0, []int{7, 8}, 8},
	11: {"Manchester", "England", "United Kingdom", "M1", 53.4794, -2.2453, 0, []int{7, 8}, 8},
	12: {"Dublin", "Leinster", "Ireland", "D02", 53.3498, -6.2603, 0, []int{8}, 8},
	13: {"Berlin", "Berlin", "Germany", "10117", 52.5170, 13.3889, 60, []int{9}, 10},
	14: {"Munich", "Bavaria", "Germany", "80331", 48.1374, 11.5755, 60, []int{9}, 10},
	15: {"Paris", "Ile-de-France", "France", "75001", 48.8606, 2.3376, 60, []int{11}, 11},
	16: {"Amsterdam", "North Holland", "Netherlands", "1012", 52.3759, 4.8975, 60, []int{12}, 12},
	17: {"Madrid", "Madrid", "Spain", "28013", 40.4168, -3.7038, 60, []int{13}, 13},
	18: {"Tokyo", "Tokyo", "Japan", "100-0005", 35.6812, 139.7671, 540, []int{14}, 19},
	19: {"Sydney", "New South Wales", "Australia", "2000", -33.8688, 151.2093, 600, []int{15}, 15},
	20: {"Bengaluru", "Karnataka", "India", "560001", 12.9716, 77.5946, 330, []int{16}, 16},
	21: {"Singapore", "Central Singapore", "Singapore", "048583", 1.2839, 103.8515, 480, []int{17}, 17},
	22: {"Sao Paulo", "Sao Paulo", "Brazil", "01310", -23.5614, -46.6559, -180, []int{18}, 18},
	// Cities that only attack infrastructure geolocates to.
	23: {"Frankfurt am Main", "Hesse", "Germany", "60313", 50.1109, 8.6821, 60, []int{23}, 10},
	24: {"Bucharest", "Bucuresti", "Romania", "030167", 44.4268, 26.1025, 120, []int{25}, 25},
	25: {"Clifton", "New Jersey", "United States", "07014", 40.8344, -74.1377, -300, []int{21}, 4},
	26: {"Gravelines", "Hauts-de-France", "France", "59820", 50.9865, 2.1283, 60, []int{22}, 11},
	27: {"Lagos", "Lagos", "Nigeria", "100001", 6.4550, 3.3941, 60, []int{24}, 24},
	28: {"Moscow", "Moscow", "Russia", "101000", 55.7558, 37.6173, 180, []int{29}, 29},
	29: {"Ho Chi Minh City", "Ho Chi Minh", "Vietnam", "700000", 10.8231, 106.6297, 420, []int{24}, 24},
	30: {"Zurich", "Zurich", "Switzerland", "8001", 47.3769, 8.5417, 60, []int{27}, 27},
}

// hostileCities are where each hostile network's addresses geolocate (indices into cities).
var hostileCities = map[int][]int{
	21: {25}, 22: {26}, 23: {23}, 24: {27, 29}, 25: {24, 16}, 26: {16, 10}, 27: {30}, 28: {25}, 29: {28},
}

// homeCities are where the workforce lives (indices into cities), with weights.
var (
	homeCities      = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}
	attackCities    = []int{16, 23, 24, 25, 26, 27, 28, 29, 30, 21, 10}
	hqCity          = 0
	officeCities    = []int{0, 1, 10, 20} // offices with a corporate egress
	remoteOfficeHub = map[int]int{8: 1, 9: 0, 11: 10, 12: 10, 13: 10, 14: 10, 15: 10, 16: 10, 17: 10, 21: 20, 18: 20, 19: 20, 22: 1}
)

// ipIn draws an address in a network's synthetic /16, avoiding .0 and .255 in the last octet.
func ipIn(r *rng, n *network) string {
	return ipv4(n.Prefix[0], n.Prefix[1], byte(r.IntN(256)), byte(1+r.IntN(254)))
}

func ipv4(a, b, c, d byte) string {
	buf := make([]byte, 0, 15)
	buf = strconv.AppendUint(buf, uint64(a), 10)
	buf = append(buf, '.')
	buf = strconv.AppendUint(buf, uint64(b), 10)
	buf = append(buf, '.')
	buf = strconv.AppendUint(buf, uint64(c), 10)
	buf = append(buf, '.')
	buf = strconv.AppendUint(buf, uint64(d), 10)
	return string(buf)
}

// distanceKm is the great-circle distance between two points.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const earthRadius = 6371.0
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}
