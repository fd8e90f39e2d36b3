// Package ocsftest validates records against the OCSF 1.8.0 class schemas kept in
// internal/normalize/testdata/ocsf, for the tests of every package that emits OCSF records.
package ocsftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validator checks encoded records against the schema of their class_uid.
type Validator struct {
	schemas map[int64]*jsonschema.Schema
}

// schemaDir is the schema directory, found from this file's place in the source tree.
func schemaDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "ocsf")
}

// New compiles every class schema in the directory.
func New(t testing.TB) *Validator {
	t.Helper()
	dir := schemaDir()
	c := jsonschema.NewCompiler()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no OCSF schemas in %s: %v", dir, err)
	}
	var classes []string
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		id := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(id, "/classes/") {
			classes = append(classes, id)
		}
	}
	v := &Validator{schemas: map[int64]*jsonschema.Schema{}}
	for _, id := range classes {
		s, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compile %s: %v", id, err)
		}
		uid, ok := classUID(s)
		if !ok {
			t.Fatalf("%s has no class_uid constant", id)
		}
		v.schemas[uid] = s
	}
	return v
}

// classUID reads the class_uid constant of a compiled class schema.
func classUID(s *jsonschema.Schema) (int64, bool) {
	p, ok := s.Properties["class_uid"]
	if !ok || p.Const == nil {
		return 0, false
	}
	switch n := (*p.Const).(type) {
	case json.Number:
		v, err := n.Int64()
		return v, err == nil
	case float64:
		return int64(n), true
	}
	return 0, false
}

// Validate checks one encoded record against its class schema.
func (v *Validator) Validate(b []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("record is not a JSON object")
	}
	n, _ := m["class_uid"].(json.Number)
	cls, err := n.Int64()
	if err != nil {
		return fmt.Errorf("record has no class_uid")
	}
	s, ok := v.schemas[cls]
	if !ok {
		return fmt.Errorf("class_uid %d has no schema", cls)
	}
	return s.Validate(doc)
}
