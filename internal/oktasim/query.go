package oktasim

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/idwatch/idwatch/internal/event"
)

// Okta's documented limits for the System Log's q parameter.
const (
	maxKeywords   = 10
	maxKeywordLen = 40
)

// parseKeywords splits q into lower-cased keywords and enforces Okta's limits.
func parseKeywords(q string) ([]string, *APIError) {
	words := strings.Fields(q)
	if len(words) > maxKeywords {
		return nil, errValidation("q", fmt.Sprintf("at most %d keywords are allowed, got %d", maxKeywords, len(words)))
	}
	for i, w := range words {
		if n := utf8.RuneCountInString(w); n > maxKeywordLen {
			return nil, errValidation("q", fmt.Sprintf("keyword %q is %d characters long; each keyword may have at most %d", w, n, maxKeywordLen))
		}
		words[i] = strings.ToLower(w)
	}
	return words, nil
}

// keywordIndex is the set of terms a q keyword can match in one event: every string value as a
// whole, each of its words, and each part of a hyphenated word, all lower-cased.
type keywordIndex map[string]struct{}

func buildKeywordIndex(v any, idx keywordIndex) {
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			buildKeywordIndex(e, idx)
		}
	case []any:
		for _, e := range t {
			buildKeywordIndex(e, idx)
		}
	default:
		s, ok := event.Text(t)
		if !ok || s == "" {
			return
		}
		s = strings.ToLower(s)
		idx[s] = struct{}{}
		for _, w := range strings.FieldsFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(",;()[]{}\"'", r)
		}) {
			idx[w] = struct{}{}
			if strings.Contains(w, "-") {
				for _, part := range strings.Split(w, "-") {
					if part != "" {
						idx[part] = struct{}{}
					}
				}
			}
		}
	}
}

// matchKeywords reports whether every keyword matches a term of doc exactly (case-insensitively).
func matchKeywords(doc event.Doc, keywords []string) bool {
	idx := keywordIndex{}
	buildKeywordIndex(map[string]any(doc), idx)
	for _, k := range keywords {
		if _, ok := idx[k]; !ok {
			return false
		}
	}
	return true
}
