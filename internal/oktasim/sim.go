package oktasim

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Workforce produces an org's people and its benign traffic (the scenario generator, adapted).
type Workforce interface {
	// Advance emits the events published after the previous call, up to and including to, in
	// published order.
	Advance(to time.Time, emit func(ev *event.LogEvent))
}

// StorylineInfo describes an attack storyline that can be injected.
type StorylineInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Detections  []string `json:"detections"`
}

// Story is one generated instance of a storyline.
type Story struct {
	ID         string
	Name       string
	Detections []string
	Events     []*event.LogEvent
}

// StorylineSource generates storylines on demand.
type StorylineSource interface {
	Storylines() []StorylineInfo
	Storyline(name string, at time.Time) (Story, error)
}

// StoryTruth is the ground truth of an injected storyline: what it is, what should detect it and
// which events belong to it.
type StoryTruth struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Detections []string  `json:"detections"`
	InjectedAt time.Time `json:"injectedAt"`
	UUIDs      []string  `json:"uuids"`
}

// storyRegistry remembers injected storylines.
type storyRegistry struct {
	mu      sync.Mutex
	src     StorylineSource
	stories []StoryTruth
}

// SetStorylines sets where the control API's storyline injection gets storylines from.
func (s *Server) SetStorylines(src StorylineSource) {
	s.stories.mu.Lock()
	defer s.stories.mu.Unlock()
	s.stories.src = src
}

// Storylines lists the storylines that can be injected.
func (s *Server) Storylines() []StorylineInfo {
	s.stories.mu.Lock()
	src := s.stories.src
	s.stories.mu.Unlock()
	if src == nil {
		return []StorylineInfo{}
	}
	return src.Storylines()
}

// InjectStoryline generates the named storyline starting at at, appends its events and records
// its ground truth.
func (s *Server) InjectStoryline(name string, at time.Time) (StoryTruth, error) {
	s.stories.mu.Lock()
	src := s.stories.src
	s.stories.mu.Unlock()
	if src == nil {
		return StoryTruth{}, fmt.Errorf("this org has no storyline source")
	}
	st, err := src.Storyline(name, at)
	if err != nil {
		return StoryTruth{}, err
	}
	truth := s.recordStory(st)
	evs := slices.Clone(st.Events)
	slices.SortStableFunc(evs, func(a, b *event.LogEvent) int { return a.Published.Compare(b.Published) })
	for _, ev := range evs {
		if err := s.Append(ev); err != nil {
			return truth, err
		}
	}
	return truth, nil
}

func (s *Server) recordStory(st Story) StoryTruth {
	t := StoryTruth{ID: st.ID, Name: st.Name, Detections: slices.Clone(st.Detections), InjectedAt: s.clock.Now(),
		UUIDs: make([]string, len(st.Events))}
	if t.Detections == nil {
		t.Detections = []string{}
	}
	for i, ev := range st.Events {
		t.UUIDs[i] = ev.UUID
	}
	s.stories.mu.Lock()
	defer s.stories.mu.Unlock()
	s.stories.stories = append(s.stories.stories, t)
	return t
}

// StoryTruths returns the ground truth of every injected storyline, in injection order.
func (s *Server) StoryTruths() []StoryTruth {
	s.stories.mu.Lock()
	defer s.stories.mu.Unlock()
	return slices.Clone(s.stories.stories)
}

// VisibleUUIDs returns the uuids of every event a client can read now, in persistence order.
func (s *Server) VisibleUUIDs() []string {
	s.logs.promote(s.clock.Now().UnixNano())
	return s.logs.uuids()
}

// PublishedUUIDs returns the uuids of the events a bounded System Log query for [since, until)
// returns now (visible, published in the window and within retention), in persistence order: the
// ground truth to compare a client's paging with.
func (s *Server) PublishedUUIDs(since, until time.Time) []string {
	now := s.clock.Now()
	s.logs.promote(now.UnixNano())
	return s.logs.uuidsPublished(max(since.UnixNano(), now.Add(-logsRetention).UnixNano()), until.UnixNano())
}

// Feed appends w's traffic up to to, merging in the events of stories in published order and
// recording the stories' ground truth. Building history and running live traffic both use it.
func (s *Server) Feed(w Workforce, to time.Time, stories ...Story) error {
	var extra []*event.LogEvent
	for _, st := range stories {
		s.recordStory(st)
		extra = append(extra, st.Events...)
	}
	slices.SortStableFunc(extra, func(a, b *event.LogEvent) int { return a.Published.Compare(b.Published) })
	var err error
	w.Advance(to, func(ev *event.LogEvent) {
		for len(extra) > 0 && !extra[0].Published.After(ev.Published) && err == nil {
			err = s.Append(extra[0])
			extra = extra[1:]
		}
		if err == nil {
			err = s.Append(ev)
		}
	})
	for _, ev := range extra {
		if err != nil {
			break
		}
		err = s.Append(ev)
	}
	return err
}
