package sink

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfigsGood(t *testing.T) {
	data, err := os.ReadFile("testdata/config/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := ParseConfigs(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 6 {
		t.Fatalf("%d configs", len(cfgs))
	}
	f := cfgs[0].Spec.(*FileConfig)
	if f.MaxAge != 24*time.Hour || f.MaxBytes != 1<<30 || cfgs[0].Batch.MaxRecords != 1000 || cfgs[0].Carry[0] != KindEvent {
		t.Fatalf("file config %+v / %+v", cfgs[0], f)
	}
	k := cfgs[2].Spec.(*KafkaConfig)
	if k.SASL.Password.Reveal() != "s3cret" || k.Topics.Event != "okta.events" {
		t.Fatalf("kafka config %+v", k)
	}
	if cfgs[3].Batch.MaxWait != 250*time.Millisecond || cfgs[4].Retry.MaxAttempts != 5 || cfgs[5].Start != "end" {
		t.Fatalf("shared options not read: %+v %+v %+v", cfgs[3].Batch, cfgs[4].Retry, cfgs[5].Start)
	}
	if h := cfgs[4].Spec.(*WebhookConfig); h.Headers["Authorization"].Reveal() != "Bearer abc" {
		t.Fatalf("webhook headers %v", h.Headers)
	}
}

// TestParseConfigsBad runs every testdata/config/*.bad.yml and checks the error names the problem.
func TestParseConfigsBad(t *testing.T) {
	want := map[string]string{
		"unknown-type":            `unknown type "s3"`,
		"unknown-option":          `unknown field "rotate_bytes"`,
		"missing-path":            "file: path is required",
		"duplicate-name":          `name "a" is used by another sink`,
		"bad-name":                `name "Has Spaces"`,
		"bad-carry":               `unknown record kind "events"`,
		"schemas-without-ocsf":    "add ocsf to carry",
		"bad-schema":              `unknown schema "network"`,
		"bad-duration":            "soon",
		"batch-too-big":           "batch.max_records: 1000000",
		"webhook-http":            "is plain http to a non-loopback host",
		"webhook-credentials":     "must not carry credentials",
		"webhook-reserved-header": "header X-Idwatch-Signature is set by idwatch",
		"hec-no-token":            "splunk_hec: token is required",
		"kafka-no-brokers":        "kafka: brokers is required",
		"kafka-bad-sasl":          `sasl.mechanism "GSSAPI"`,
		"kafka-bad-compression":   `compression "brotli"`,
		"nats-no-url":             "nats: url is required",
		"syslog-bad-address":      "is not host:port",
		"tls-half-pair":           "cert_file and key_file go together",
		"bad-start":               `"middle" is not beginning or end`,
		"not-a-list":              "sinks config",
	}
	files, _ := filepath.Glob("testdata/config/*.bad.yml")
	if len(files) != len(want) {
		t.Fatalf("%d bad configs on disk, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseConfigs(data)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), want[name]) {
				t.Fatalf("error %q does not contain %q", err, want[name])
			}
			if strings.Contains(err.Error(), "u:p@") {
				t.Fatalf("error leaks URL credentials: %v", err)
			}
		})
	}
}

func TestRegistryTypesDocumentOptions(t *testing.T) {
	r, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "file,kafka,nats,splunk_hec,syslog,webhook" {
		t.Fatalf("types %s", got)
	}
	for _, ty := range r.Types() {
		for _, o := range ty.Options() {
			if o.Doc == "" {
				t.Errorf("%s option %s has no doc", ty.Name, o.Name)
			}
		}
	}
	if err := r.Register(fileType()); err == nil {
		t.Fatal("registered file twice")
	}
}

func FuzzParseConfigs(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.yml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfgs, err := ParseConfigs(data)
		if err != nil {
			return
		}
		for _, c := range cfgs {
			if err := c.Validate(); err != nil {
				t.Fatalf("ParseConfigs returned an invalid config: %v", err)
			}
		}
	})
}
