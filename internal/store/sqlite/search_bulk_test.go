package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// bulkBuildAbove is the journal size above which the benchmark journal is written by SQL in
// bulk instead of through AppendPage: the same rows the indexer writes (the same dictionary,
// event_index and event_terms layout), tens of millions of them in minutes.
const bulkBuildAbove = 200_000

// bulkBuild writes n events like benchEvent's, with their index, in a few large statements.
// Dictionary ids are laid out arithmetically: types 1..len(benchTypes), outcomes after them;
// users 1..5000, their addresses 5001..20000, outside addresses 20001..85536, apps 90001..90200.
func bulkBuild(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := b.Context()
	baseMS := benchBase.UnixMilli()
	var typeCase strings.Builder
	typeCase.WriteString("CASE")
	cum := 0
	for i, t := range benchTypes {
		cum += t.weight
		fmt.Fprintf(&typeCase, " WHEN w < %d THEN %d", cum, i+1)
	}
	typeCase.WriteString(" ELSE 1 END")
	outSuccess, outFailure := len(benchTypes)+1, len(benchTypes)+2
	steps := []string{
		`PRAGMA cache_size(-262144)`,
		`BEGIN`,
		`DELETE FROM search_names`,
		`DELETE FROM search_entities`,
	}
	for i, t := range benchTypes {
		steps = append(steps, fmt.Sprintf(`INSERT INTO search_names (id, kind, name) VALUES (%d, %d, '%s')`, i+1, nameType, t.name))
	}
	steps = append(steps,
		fmt.Sprintf(`INSERT INTO search_names (id, kind, name) VALUES (%d, %d, 'SUCCESS'), (%d, %d, 'FAILURE')`, outSuccess, nameOutcome, outFailure, nameOutcome),
		`WITH RECURSIVE c(u) AS (SELECT 0 UNION ALL SELECT u+1 FROM c WHERE u < 4999)
			INSERT INTO search_entities (id, okta_id, alt_id) SELECT u+1, printf('00u%06d', u), printf('user%d@acme.example', u) FROM c`,
		`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM c WHERE x < 14999)
			INSERT INTO search_entities (id, okta_id, alt_id) SELECT 5001+x, printf('10.%d.%d.%d', (x/3)/250, (x/3)%250, 1+x%3), '' FROM c`,
		`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM c WHERE x < 65535)
			INSERT INTO search_entities (id, okta_id, alt_id) SELECT 20001+x, printf('203.0.%d.%d', x/256, x%256), '' FROM c`,
		`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM c WHERE x < 199)
			INSERT INTO search_entities (id, okta_id, alt_id) SELECT 90001+x, printf('0oa%06d', x), printf('App %d', x) FROM c`,
		fmt.Sprintf(`CREATE TEMP TABLE g AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < %d)
			SELECT i, CASE WHEN abs(random()) %% 10 = 0 THEN abs(random()) %% 20 ELSE abs(random()) %% 5000 END AS u,
				abs(random()) %% 1000 AS w, abs(random()) %% 20 = 0 AS ext, abs(random()) %% 65536 AS ex, abs(random()) %% 3 AS k,
				abs(random()) %% 25 = 0 AS fail, abs(random()) %% 200 AS app, abs(random()) %% 4 = 0 AS two, abs(random()) %% 5000 AS tu FROM c`, n),
		fmt.Sprintf(`CREATE TEMP TABLE h AS SELECT i, u, %s AS typ, CASE WHEN ext THEN 20001+ex ELSE 5001+u*3+k END AS ip, fail, app, two, tu,
			%d + i*26 AS pub FROM g`, typeCase.String(), baseMS),
		`DROP TABLE g`,
		fmt.Sprintf(`INSERT INTO journal (seq, integration_id, uuid, published, event_type, raw, stored_at)
			SELECT h.i, 1 + (h.i/5000)%%2, printf('%%08x-bench-11ee-%%012d', h.i, h.i), h.pub*1000000, t.name,
				CAST(printf('{"uuid":"%%08x-bench-11ee-%%012d","published":"%%s","eventType":"%%s","version":"0","severity":"INFO","displayMessage":"benchmark event","actor":{"id":"00u%%06d","type":"User","alternateId":"user%%d@acme.example","displayName":"User %%d"},"client":{"ipAddress":"%%s","zone":"null","userAgent":{"rawUserAgent":"Mozilla/5.0 (Macintosh) Chrome/120","os":"Mac OS X","browser":"CHROME"},"geographicalContext":{"country":"United States","city":"Portland"}},"outcome":{"result":"%%s"},"target":[{"id":"0oa%%06d","type":"AppInstance","alternateId":"App %%d"}%%s],"transaction":{"type":"WEB","id":"tx%%d"}}',
					h.i, h.i, strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', h.pub/1000.0, 'unixepoch'), t.name, h.u, h.u, h.u, ip.okta_id,
					CASE WHEN h.fail THEN 'FAILURE' ELSE 'SUCCESS' END, h.app, h.app,
					CASE WHEN h.two THEN printf(',{"id":"00u%%06d","type":"User","alternateId":"user%%d@acme.example"}', h.tu, h.tu) ELSE '' END, h.i) AS BLOB),
				%d
			FROM h JOIN search_names t ON t.id = h.typ JOIN search_entities ip ON ip.id = h.ip ORDER BY h.i`, time.Now().UnixNano()),
		fmt.Sprintf(`UPDATE sequences SET value = %d WHERE name = 'journal'`, n),
		fmt.Sprintf(`INSERT INTO event_index (seq, pub, integration_id, type_id, outcome_id, actor_id, ip_id, targets)
			SELECT i, pub, 1 + (i/5000)%%2, typ, CASE WHEN fail THEN %d ELSE %d END, u+1, ip,
				unhex(printf('%%02x%%02x%%02x', ((90001+app) & 127) | 128, (((90001+app) >> 7) & 127) | 128, (90001+app) >> 14) ||
					CASE WHEN two THEN printf('%%02x%%02x', ((tu+1) & 127) | 128, (tu+1) >> 7) ELSE '' END)
			FROM h ORDER BY i`, outFailure, outSuccess),
		`INSERT INTO event_terms (term, pub, seq)
			SELECT term, pub, seq FROM (
				SELECT 0 AS term, pub, i AS seq FROM h
				UNION ALL SELECT typ*8+1, pub, i FROM h
				UNION ALL SELECT (u+1)*8+2, pub, i FROM h
				UNION ALL SELECT ip*8+4, pub, i FROM h
				UNION ALL SELECT (90001+app)*8+3, pub, i FROM h
				UNION ALL SELECT (tu+1)*8+3, pub, i FROM h WHERE two)
			ORDER BY term, pub, seq`,
		`DROP TABLE h`,
		`COMMIT`,
		`PRAGMA cache_size(-32768)`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	)
	conn, err := s.w.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for i, q := range steps {
		t0 := time.Now()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			_, _ = conn.ExecContext(ctx, `ROLLBACK`)
			b.Fatalf("bulk build step %d: %v\n%s", i, err, q)
		}
		if d := time.Since(t0); d > 5*time.Second {
			b.Logf("bulk build step %d took %s", i, d.Round(time.Second))
		}
	}
}
