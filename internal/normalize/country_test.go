package normalize

import (
	"slices"
	"testing"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// notCountries are region codes CLDR counts as countries that ISO 3166-1 only reserves
// (exceptional reservations) or that are not countries at all.
var notCountries = []string{"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "ZZ"}

// TestCountryTable checks the table against CLDR: the same set of codes, the same continent
// wherever CLDR places the country on one (it puts remote islands in "Outlying Oceania"), and
// every name resolving to its own row only.
func TestCountryTable(t *testing.T) {
	var cldr []string
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || r.String() != code || !r.IsCountry() || r.Canonicalize() != r ||
				display.English.Regions().Name(r) == "" || slices.Contains(notCountries, code) {
				continue
			}
			cldr = append(cldr, code)
		}
	}
	t.Logf("CLDR: %d countries", len(cldr))
	var codes []string
	for _, row := range countryTable {
		codes = append(codes, row.Code)
	}
	if !slices.IsSorted(codes) || len(slices.Compact(slices.Clone(codes))) != len(codes) {
		t.Error("countryTable is not sorted by code, or lists a code twice")
	}
	for _, c := range cldr {
		if !slices.Contains(codes, c) {
			t.Errorf("country %s (%s) is missing", c, display.English.Regions().Name(language.MustParseRegion(c)))
		}
	}
	for _, c := range codes {
		if !slices.Contains(cldr, c) {
			t.Errorf("%s is not an ISO 3166-1 country code", c)
		}
	}
	continents := map[string]string{"002": africa, "003": northAmerica, "005": southAmerica, "142": asia, "150": europe, "009": oceania}
	outlying := language.MustParseRegion("QO")
	ix := newCountryIndex()
	for i, row := range countryTable {
		r := language.MustParseRegion(row.Code)
		if !outlying.Contains(r) {
			for m49, name := range continents {
				if language.MustParseRegion(m49).Contains(r) && name != row.Continent {
					t.Errorf("%s: continent %s, CLDR says %s", row.Code, row.Continent, name)
				}
			}
		}
		for _, name := range row.Names {
			if got := ix.lookup(name); got != &countryTable[i] {
				t.Errorf("%q resolves to %v, want %s", name, got, row.Code)
			}
		}
	}
	folded := map[string]string{}
	for _, row := range countryTable {
		for _, name := range row.Names {
			if other, ok := folded[foldCountry(name)]; ok && other != row.Code {
				t.Errorf("%q folds like a name of %s", name, other)
			}
			folded[foldCountry(name)] = row.Code
		}
	}
}

func TestCountryLookup(t *testing.T) {
	ix := newCountryIndex()
	cases := map[string]string{
		"United States": "US", "united states": "US", "UNITED STATES OF AMERICA": "US",
		"Côte d’Ivoire": "CI", "Cote d'Ivoire": "CI", "St. Lucia": "LC", "St Lucia": "LC",
		"Bosnia & Herzegovina": "BA", "The Bahamas": "BS", "Aland Islands": "AX", "Turkey": "TR",
		"Türkiye": "TR", "Republic of Lithuania": "LT", "Hashemite Kingdom of Jordan": "JO",
		"Atlantis": "", "": "", "   ": "", "The": "",
	}
	for name, want := range cases {
		got := ""
		if row := ix.lookup(name); row != nil {
			got = row.Code
		}
		if got != want {
			t.Errorf("lookup(%q) = %q, want %q", name, got, want)
		}
	}
}
