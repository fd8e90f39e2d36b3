package normalize

import "strings"

// countryRow is one ISO 3166-1 country: its alpha-2 code, its continent, and the names Okta may
// write for it, MaxMind's English name (what geographicalContext.country holds) first.
type countryRow struct {
	Code, Continent string
	Names           []string
}

// Continent names of location.continent: the seven-continent model over UN M.49 regions (the
// Caribbean and Central America are North America).
const (
	africa       = "Africa"
	antarctica   = "Antarctica"
	asia         = "Asia"
	europe       = "Europe"
	northAmerica = "North America"
	oceania      = "Oceania"
	southAmerica = "South America"
)

// countryTable lists every ISO 3166-1 alpha-2 code, and XK (Kosovo), which MaxMind and so Okta use.
// OCSF location.country is the alpha-2 code; Okta writes a country name. TestcountryTable checks
// the codes and continents against CLDR (golang.org/x/text).
var countryTable = []countryRow{
	{"AD", europe, []string{"Andorra"}},
	{"AE", asia, []string{"United Arab Emirates"}},
	{"AF", asia, []string{"Afghanistan"}},
	{"AG", northAmerica, []string{"Antigua and Barbuda"}},
	{"AI", northAmerica, []string{"Anguilla"}},
	{"AL", europe, []string{"Albania"}},
	{"AM", asia, []string{"Armenia"}},
	{"AO", africa, []string{"Angola"}},
	{"AQ", antarctica, []string{"Antarctica"}},
	{"AR", southAmerica, []string{"Argentina"}},
	{"AS", oceania, []string{"American Samoa"}},
	{"AT", europe, []string{"Austria"}},
	{"AU", oceania, []string{"Australia"}},
	{"AW", northAmerica, []string{"Aruba"}},
	{"AX", europe, []string{"Åland", "Åland Islands"}},
	{"AZ", asia, []string{"Azerbaijan"}},
	{"BA", europe, []string{"Bosnia and Herzegovina"}},
	{"BB", northAmerica, []string{"Barbados"}},
	{"BD", asia, []string{"Bangladesh"}},
	{"BE", europe, []string{"Belgium"}},
	{"BF", africa, []string{"Burkina Faso"}},
	{"BG", europe, []string{"Bulgaria"}},
	{"BH", asia, []string{"Bahrain"}},
	{"BI", africa, []string{"Burundi"}},
	{"BJ", africa, []string{"Benin"}},
	{"BL", northAmerica, []string{"Saint Barthélemy"}},
	{"BM", northAmerica, []string{"Bermuda"}},
	{"BN", asia, []string{"Brunei", "Brunei Darussalam"}},
	{"BO", southAmerica, []string{"Bolivia"}},
	{"BQ", northAmerica, []string{"Bonaire, Sint Eustatius, and Saba", "Caribbean Netherlands"}},
	{"BR", southAmerica, []string{"Brazil"}},
	{"BS", northAmerica, []string{"Bahamas"}},
	{"BT", asia, []string{"Bhutan"}},
	{"BV", southAmerica, []string{"Bouvet Island"}},
	{"BW", africa, []string{"Botswana"}},
	{"BY", europe, []string{"Belarus"}},
	{"BZ", northAmerica, []string{"Belize"}},
	{"CA", northAmerica, []string{"Canada"}},
	{"CC", oceania, []string{"Cocos [Keeling] Islands", "Cocos (Keeling) Islands", "Cocos Islands"}},
	{"CD", africa, []string{"DR Congo", "Democratic Republic of the Congo", "Congo - Kinshasa"}},
	{"CF", africa, []string{"Central African Republic"}},
	{"CG", africa, []string{"Congo Republic", "Congo", "Republic of the Congo", "Congo - Brazzaville"}},
	{"CH", europe, []string{"Switzerland"}},
	{"CI", africa, []string{"Ivory Coast", "Côte d'Ivoire"}},
	{"CK", oceania, []string{"Cook Islands"}},
	{"CL", southAmerica, []string{"Chile"}},
	{"CM", africa, []string{"Cameroon"}},
	{"CN", asia, []string{"China"}},
	{"CO", southAmerica, []string{"Colombia"}},
	{"CR", northAmerica, []string{"Costa Rica"}},
	{"CU", northAmerica, []string{"Cuba"}},
	{"CV", africa, []string{"Cabo Verde", "Cape Verde"}},
	{"CW", northAmerica, []string{"Curaçao"}},
	{"CX", oceania, []string{"Christmas Island"}},
	{"CY", asia, []string{"Cyprus"}},
	{"CZ", europe, []string{"Czechia", "Czech Republic"}},
	{"DE", europe, []string{"Germany"}},
	{"DJ", africa, []string{"Djibouti"}},
	{"DK", europe, []string{"Denmark"}},
	{"DM", northAmerica, []string{"Dominica"}},
	{"DO", northAmerica, []string{"Dominican Republic"}},
	{"DZ", africa, []string{"Algeria"}},
	{"EC", southAmerica, []string{"Ecuador"}},
	{"EE", europe, []string{"Estonia"}},
	{"EG", africa, []string{"Egypt"}},
	{"EH", africa, []string{"Western Sahara"}},
	{"ER", africa, []string{"Eritrea"}},
	{"ES", europe, []string{"Spain"}},
	{"ET", africa, []string{"Ethiopia"}},
	{"FI", europe, []string{"Finland"}},
	{"FJ", oceania, []string{"Fiji"}},
	{"FK", southAmerica, []string{"Falkland Islands", "Falkland Islands (Malvinas)"}},
	{"FM", oceania, []string{"Federated States of Micronesia", "Micronesia"}},
	{"FO", europe, []string{"Faroe Islands"}},
	{"FR", europe, []string{"France"}},
	{"GA", africa, []string{"Gabon"}},
	{"GB", europe, []string{"United Kingdom", "Great Britain"}},
	{"GD", northAmerica, []string{"Grenada"}},
	{"GE", asia, []string{"Georgia"}},
	{"GF", southAmerica, []string{"French Guiana"}},
	{"GG", europe, []string{"Guernsey"}},
	{"GH", africa, []string{"Ghana"}},
	{"GI", europe, []string{"Gibraltar"}},
	{"GL", northAmerica, []string{"Greenland"}},
	{"GM", africa, []string{"Gambia"}},
	{"GN", africa, []string{"Guinea"}},
	{"GP", northAmerica, []string{"Guadeloupe"}},
	{"GQ", africa, []string{"Equatorial Guinea"}},
	{"GR", europe, []string{"Greece"}},
	{"GS", southAmerica, []string{"South Georgia and the South Sandwich Islands"}},
	{"GT", northAmerica, []string{"Guatemala"}},
	{"GU", oceania, []string{"Guam"}},
	{"GW", africa, []string{"Guinea-Bissau"}},
	{"GY", southAmerica, []string{"Guyana"}},
	{"HK", asia, []string{"Hong Kong", "Hong Kong SAR China"}},
	{"HM", oceania, []string{"Heard Island and McDonald Islands"}},
	{"HN", northAmerica, []string{"Honduras"}},
	{"HR", europe, []string{"Croatia"}},
	{"HT", northAmerica, []string{"Haiti"}},
	{"HU", europe, []string{"Hungary"}},
	{"ID", asia, []string{"Indonesia"}},
	{"IE", europe, []string{"Ireland"}},
	{"IL", asia, []string{"Israel"}},
	{"IM", europe, []string{"Isle of Man"}},
	{"IN", asia, []string{"India"}},
	{"IO", africa, []string{"British Indian Ocean Territory"}},
	{"IQ", asia, []string{"Iraq"}},
	{"IR", asia, []string{"Iran"}},
	{"IS", europe, []string{"Iceland"}},
	{"IT", europe, []string{"Italy"}},
	{"JE", europe, []string{"Jersey"}},
	{"JM", northAmerica, []string{"Jamaica"}},
	{"JO", asia, []string{"Hashemite Kingdom of Jordan", "Jordan"}},
	{"JP", asia, []string{"Japan"}},
	{"KE", africa, []string{"Kenya"}},
	{"KG", asia, []string{"Kyrgyzstan"}},
	{"KH", asia, []string{"Cambodia"}},
	{"KI", oceania, []string{"Kiribati"}},
	{"KM", africa, []string{"Comoros"}},
	{"KN", northAmerica, []string{"St Kitts and Nevis", "Saint Kitts and Nevis"}},
	{"KP", asia, []string{"North Korea"}},
	{"KR", asia, []string{"South Korea", "Republic of Korea"}},
	{"KW", asia, []string{"Kuwait"}},
	{"KY", northAmerica, []string{"Cayman Islands"}},
	{"KZ", asia, []string{"Kazakhstan"}},
	{"LA", asia, []string{"Laos"}},
	{"LB", asia, []string{"Lebanon"}},
	{"LC", northAmerica, []string{"Saint Lucia"}},
	{"LI", europe, []string{"Liechtenstein"}},
	{"LK", asia, []string{"Sri Lanka"}},
	{"LR", africa, []string{"Liberia"}},
	{"LS", africa, []string{"Lesotho"}},
	{"LT", europe, []string{"Republic of Lithuania", "Lithuania"}},
	{"LU", europe, []string{"Luxembourg"}},
	{"LV", europe, []string{"Latvia"}},
	{"LY", africa, []string{"Libya"}},
	{"MA", africa, []string{"Morocco"}},
	{"MC", europe, []string{"Monaco"}},
	{"MD", europe, []string{"Republic of Moldova", "Moldova"}},
	{"ME", europe, []string{"Montenegro"}},
	{"MF", northAmerica, []string{"Saint Martin"}},
	{"MG", africa, []string{"Madagascar"}},
	{"MH", oceania, []string{"Marshall Islands"}},
	{"MK", europe, []string{"North Macedonia", "Macedonia"}},
	{"ML", africa, []string{"Mali"}},
	{"MM", asia, []string{"Myanmar", "Myanmar (Burma)", "Burma"}},
	{"MN", asia, []string{"Mongolia"}},
	{"MO", asia, []string{"Macao", "Macau"}},
	{"MP", oceania, []string{"Northern Mariana Islands"}},
	{"MQ", northAmerica, []string{"Martinique"}},
	{"MR", africa, []string{"Mauritania"}},
	{"MS", northAmerica, []string{"Montserrat"}},
	{"MT", europe, []string{"Malta"}},
	{"MU", africa, []string{"Mauritius"}},
	{"MV", asia, []string{"Maldives"}},
	{"MW", africa, []string{"Malawi"}},
	{"MX", northAmerica, []string{"Mexico"}},
	{"MY", asia, []string{"Malaysia"}},
	{"MZ", africa, []string{"Mozambique"}},
	{"NA", africa, []string{"Namibia"}},
	{"NC", oceania, []string{"New Caledonia"}},
	{"NE", africa, []string{"Niger"}},
	{"NF", oceania, []string{"Norfolk Island"}},
	{"NG", africa, []string{"Nigeria"}},
	{"NI", northAmerica, []string{"Nicaragua"}},
	{"NL", europe, []string{"Netherlands", "The Netherlands"}},
	{"NO", europe, []string{"Norway"}},
	{"NP", asia, []string{"Nepal"}},
	{"NR", oceania, []string{"Nauru"}},
	{"NU", oceania, []string{"Niue"}},
	{"NZ", oceania, []string{"New Zealand"}},
	{"OM", asia, []string{"Oman"}},
	{"PA", northAmerica, []string{"Panama"}},
	{"PE", southAmerica, []string{"Peru"}},
	{"PF", oceania, []string{"French Polynesia"}},
	{"PG", oceania, []string{"Papua New Guinea"}},
	{"PH", asia, []string{"Philippines"}},
	{"PK", asia, []string{"Pakistan"}},
	{"PL", europe, []string{"Poland"}},
	{"PM", northAmerica, []string{"Saint Pierre and Miquelon"}},
	{"PN", oceania, []string{"Pitcairn Islands"}},
	{"PR", northAmerica, []string{"Puerto Rico"}},
	{"PS", asia, []string{"Palestine", "Palestinian Territories", "Palestinian Territory"}},
	{"PT", europe, []string{"Portugal"}},
	{"PW", oceania, []string{"Palau"}},
	{"PY", southAmerica, []string{"Paraguay"}},
	{"QA", asia, []string{"Qatar"}},
	{"RE", africa, []string{"Réunion"}},
	{"RO", europe, []string{"Romania"}},
	{"RS", europe, []string{"Serbia"}},
	{"RU", europe, []string{"Russia", "Russian Federation"}},
	{"RW", africa, []string{"Rwanda"}},
	{"SA", asia, []string{"Saudi Arabia"}},
	{"SB", oceania, []string{"Solomon Islands"}},
	{"SC", africa, []string{"Seychelles"}},
	{"SD", africa, []string{"Sudan"}},
	{"SE", europe, []string{"Sweden"}},
	{"SG", asia, []string{"Singapore"}},
	{"SH", africa, []string{"Saint Helena", "Saint Helena, Ascension and Tristan da Cunha"}},
	{"SI", europe, []string{"Slovenia"}},
	{"SJ", europe, []string{"Svalbard and Jan Mayen"}},
	{"SK", europe, []string{"Slovakia"}},
	{"SL", africa, []string{"Sierra Leone"}},
	{"SM", europe, []string{"San Marino"}},
	{"SN", africa, []string{"Senegal"}},
	{"SO", africa, []string{"Somalia"}},
	{"SR", southAmerica, []string{"Suriname"}},
	{"SS", africa, []string{"South Sudan"}},
	{"ST", africa, []string{"São Tomé and Príncipe"}},
	{"SV", northAmerica, []string{"El Salvador"}},
	{"SX", northAmerica, []string{"Sint Maarten"}},
	{"SY", asia, []string{"Syria"}},
	{"SZ", africa, []string{"Eswatini", "Swaziland"}},
	{"TC", northAmerica, []string{"Turks and Caicos Islands"}},
	{"TD", africa, []string{"Chad"}},
	{"TF", africa, []string{"French Southern Territories"}},
	{"TG", africa, []string{"Togo"}},
	{"TH", asia, []string{"Thailand"}},
	{"TJ", asia, []string{"Tajikistan"}},
	{"TK", oceania, []string{"Tokelau"}},
	{"TL", asia, []string{"Timor-Leste", "East Timor"}},
	{"TM", asia, []string{"Turkmenistan"}},
	{"TN", africa, []string{"Tunisia"}},
	{"TO", oceania, []string{"Tonga"}},
	{"TR", asia, []string{"Türkiye", "Turkey"}},
	{"TT", northAmerica, []string{"Trinidad and Tobago"}},
	{"TV", oceania, []string{"Tuvalu"}},
	{"TW", asia, []string{"Taiwan"}},
	{"TZ", africa, []string{"Tanzania"}},
	{"UA", europe, []string{"Ukraine"}},
	{"UG", africa, []string{"Uganda"}},
	{"UM", oceania, []string{"U.S. Minor Outlying Islands", "United States Minor Outlying Islands"}},
	{"US", northAmerica, []string{"United States", "United States of America"}},
	{"UY", southAmerica, []string{"Uruguay"}},
	{"UZ", asia, []string{"Uzbekistan"}},
	{"VA", europe, []string{"Vatican City", "Vatican", "Holy See"}},
	{"VC", northAmerica, []string{"St Vincent and Grenadines", "Saint Vincent and the Grenadines"}},
	{"VE", southAmerica, []string{"Venezuela"}},
	{"VG", northAmerica, []string{"British Virgin Islands"}},
	{"VI", northAmerica, []string{"U.S. Virgin Islands"}},
	{"VN", asia, []string{"Vietnam"}},
	{"VU", oceania, []string{"Vanuatu"}},
	{"WF", oceania, []string{"Wallis and Futuna"}},
	{"WS", oceania, []string{"Samoa"}},
	{"XK", europe, []string{"Kosovo"}},
	{"YE", asia, []string{"Yemen"}},
	{"YT", africa, []string{"Mayotte"}},
	{"ZA", africa, []string{"South Africa"}},
	{"ZM", africa, []string{"Zambia"}},
	{"ZW", africa, []string{"Zimbabwe"}},
}

// countryIndex resolves country names to countryTable rows.
type countryIndex struct {
	exact  map[string]*countryRow // the names as listed
	folded map[string]*countryRow // foldCountry of every name
}

func newCountryIndex() countryIndex {
	ix := countryIndex{exact: map[string]*countryRow{}, folded: map[string]*countryRow{}}
	for i := range countryTable {
		row := &countryTable[i]
		for _, name := range row.Names {
			ix.exact[name] = row
			ix.folded[foldCountry(name)] = row
		}
	}
	return ix
}

// lookup returns the row of a country name as Okta writes it, tolerating case, accents, "&" for
// "and", "St"/"St." for "Saint", a leading "The" and punctuation; nil when the name is unknown.
func (ix countryIndex) lookup(name string) *countryRow {
	if row := ix.exact[name]; row != nil {
		return row
	}
	return ix.folded[foldCountry(name)]
}

// accentFree maps the accented letters of country names to their base letters.
var accentFree = strings.NewReplacer("á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a", "å", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o", "ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ç", "c", "ñ", "n", "&", " and ")

// foldCountry reduces a country name to lower-case ASCII words separated by single spaces.
func foldCountry(name string) string {
	s := accentFree.Replace(strings.ToLower(name))
	words := strings.FieldsFunc(s, func(r rune) bool { return r < 'a' || r > 'z' })
	out := words[:0]
	for i, w := range words {
		switch {
		case w == "the" && i == 0:
			continue
		case w == "st":
			w = "saint"
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}
