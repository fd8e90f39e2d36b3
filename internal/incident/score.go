package incident

import "strings"

// Stages of the identity kill chain the score follows; an alert's stage is the furthest of its
// ATT&CK tactics along it (0 when none is on it).
var stages = []struct{ name, uid string }{
	{"initial-access", "TA0001"},
	{"credential-access", "TA0006"},
	{"persistence", "TA0003"},
	{"privilege-escalation", "TA0004"},
	{"defense-evasion", "TA0005"},
}

// Scoring weights. Breadth (new rules, new entities) and the furthest stage reached raise the
// risk; repeats of a rule already in the incident add little, so a noisy rule cannot outweigh a
// step further along the kill chain.
const (
	repeatPoints = 1
	entityPoints = 3
	maxEntityPts = 9
	stagePoints  = 8
	maxRisk      = 100
)

var levelPoints = map[string]int{"informational": 1, "low": 2, "medium": 5, "high": 10, "critical": 15}

var levelRank = map[string]int{"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// stageOf returns the furthest kill-chain stage (1-based) among tactics given as Sigma tags
// (attack.credential-access), names (credential_access) or ATT&CK ids (TA0006).
func stageOf(tactics []string) int {
	best := 0
	for _, t := range tactics {
		t = strings.ToLower(strings.TrimPrefix(strings.ToLower(t), "attack."))
		t = strings.ReplaceAll(t, "_", "-")
		if t == "stealth" {
			t = "defense-evasion"
		}
		for i, s := range stages {
			if (t == s.name || t == strings.ToLower(s.uid)) && i+1 > best {
				best = i + 1
			}
		}
	}
	return best
}

// StageName returns the tactic name of a stage (1-based), "" for 0.
func StageName(stage int) string {
	if stage < 1 || stage > len(stages) {
		return ""
	}
	return stages[stage-1].name
}

// severityOf maps a risk to a severity, never below the incident's most severe alert.
func severityOf(risk int, floor string) string {
	s := "low"
	switch {
	case risk >= 70:
		s = "critical"
	case risk >= 40:
		s = "high"
	case risk >= 20:
		s = "medium"
	}
	if levelRank[floor] > levelRank[s] {
		return floor
	}
	return s
}

// score walks an incident's alerts in order and records what each adds to the risk.
func score(inc *Incident, alerts []*Alert) {
	rules := map[string]bool{}
	entities := map[Entity]bool{}
	stage := 0
	risk := 0
	floor := ""
	for _, a := range alerts {
		c := Contribution{AlertID: a.ID, RuleID: a.RuleID}
		if rules[a.RuleID] {
			c.Rule = repeatPoints
		} else {
			rules[a.RuleID] = true
			c.Rule = levelPoints[normLevel(a.Severity)]
		}
		for _, e := range a.entities {
			if !entities[e] {
				if len(entities) > 0 {
					c.Entities += entityPoints
				}
				entities[e] = true
			}
		}
		c.Entities = min(c.Entities, maxEntityPts)
		if s := stageOf(a.Tactics); s > stage {
			c.Stage = (s - stage) * stagePoints
			c.Reached = StageName(s)
			stage = s
		}
		c.Points = c.Rule + c.Entities + c.Stage
		risk += c.Points
		if l := normLevel(a.Severity); levelRank[l] > levelRank[floor] {
			floor = l
		}
		inc.Contributions = append(inc.Contributions, c)
	}
	inc.Stage = StageName(stage)
	inc.Risk = min(risk, maxRisk)
	inc.Severity = severityOf(inc.Risk, floor)
}

func normLevel(l string) string {
	l = strings.ToLower(l)
	if _, ok := levelRank[l]; !ok {
		return "medium"
	}
	return l
}
