package main

import "github.com/idwatch/idwatch/internal/oktasim"

// parsePostureFlaws reads --posture-flaws: "" keeps the generated directory (nil), "seed" derives
// the flaws from the seed, "none" gives a clean org, anything else is a list of flaw names.
func parsePostureFlaws(v string, seed int64) ([]oktasim.Flaw, error) {
	switch v {
	case "":
		return nil, nil
	case "seed":
		return append([]oktasim.Flaw{}, oktasim.FlawsForSeed(seed)...), nil
	case "none":
		return []oktasim.Flaw{}, nil
	}
	fs, err := oktasim.ParseFlaws(v)
	if fs == nil && err == nil {
		fs = []oktasim.Flaw{}
	}
	return fs, err
}

func flawNames() []string {
	out := make([]string, len(oktasim.AllFlaws))
	for i, f := range oktasim.AllFlaws {
		out[i] = string(f)
	}
	return out
}
