-- In-memory workload for ov_prog_sqlite3 (test/ov_programs.sh), run as
--   sqlite3 :memory: < sqlite_workload.sql
-- 200,000 rows inserted, indexed, aggregated, updated, deleted, joined and
-- sorted. Every query has an ORDER BY (or a single row) and only exact or
-- rounded values are printed, so the output is deterministic.
.bail on
.headers off
.mode list
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;

CREATE TABLE item (
  id    INTEGER PRIMARY KEY,
  grp   INTEGER NOT NULL,
  name  TEXT NOT NULL,
  price REAL NOT NULL,
  qty   INTEGER NOT NULL,
  note  TEXT
);

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
INSERT INTO item (id, grp, name, price, qty, note)
SELECT i,
       (i * 7919) % 1000,
       printf('item-%05d-%s', (i * 2654435761) % 99991, substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26, 1 + i % 7)),
       ((i * 48271) % 100000) / 100.0,
       1 + (i * 16807) % 50,
       CASE WHEN i % 10 = 0 THEN replace(hex(zeroblob(20 + i % 200)), '00', 'x') END
FROM n;

SELECT 'rows', count(*), sum(qty), round(sum(price), 2), count(note), sum(length(note)) FROM item;

CREATE INDEX item_grp ON item(grp);
CREATE INDEX item_name ON item(name);
CREATE INDEX item_price_qty ON item(price, qty);

SELECT 'groups', count(DISTINCT grp), count(DISTINCT name) FROM item;
SELECT 'grp', grp, count(*), sum(qty), round(avg(price), 4), min(name), max(name)
  FROM item GROUP BY grp ORDER BY sum(qty) DESC, grp LIMIT 15;
SELECT 'cheap', id, name, price, qty FROM item WHERE price < 0.05 ORDER BY price, id LIMIT 10;
SELECT 'range', count(*), round(sum(price * qty), 2) FROM item WHERE price BETWEEN 100 AND 200;
SELECT 'like', count(*) FROM item WHERE name LIKE 'item-0042%';

-- Window functions over a sorted set.
SELECT 'win', id, grp, running, rnk FROM (
  SELECT id, grp,
         sum(qty) OVER (PARTITION BY grp ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
         rank() OVER (PARTITION BY grp ORDER BY price DESC, id) AS rnk
  FROM item WHERE grp IN (7, 77, 777))
WHERE rnk <= 3 ORDER BY grp, rnk;

-- Join against a derived summary table.
CREATE TABLE grp_summary AS
  SELECT grp, count(*) AS n, sum(price * qty) AS revenue FROM item GROUP BY grp;
CREATE INDEX grp_summary_rev ON grp_summary(revenue);
SELECT 'join', s.grp, s.n, round(s.revenue, 2), count(i.id)
  FROM grp_summary s JOIN item i ON i.grp = s.grp AND i.qty > 45
  GROUP BY s.grp ORDER BY s.revenue DESC, s.grp LIMIT 10;

-- Updates and deletes, then the same aggregates again.
UPDATE item SET price = round(price * 1.1, 2), note = coalesce(note, '') || 'u' WHERE grp % 3 = 0;
DELETE FROM item WHERE id % 4 = 0;
SELECT 'after', count(*), sum(qty), round(sum(price), 2), sum(length(note)) FROM item;

-- A large sort without an index (temporary b-tree) and string aggregation.
SELECT 'sorted', id, note IS NULL, length(name) FROM item ORDER BY substr(name, 12) DESC, id LIMIT 10;
SELECT 'concat', grp, length(group_concat(name, ',')), substr(group_concat(name, ','), 1, 40)
  FROM (SELECT grp, name FROM item WHERE grp < 5 ORDER BY grp, name) GROUP BY grp ORDER BY grp;

-- Recursive CTE: collatz lengths, a different allocation pattern.
WITH RECURSIVE c(start, x, steps) AS (
  SELECT value, value, 0 FROM generate_series(1, 3000)
  UNION ALL
  SELECT start, CASE WHEN x % 2 = 0 THEN x / 2 ELSE 3 * x + 1 END, steps + 1 FROM c WHERE x > 1)
SELECT 'collatz', start, max(steps) FROM c GROUP BY start ORDER BY max(steps) DESC, start LIMIT 5;

VACUUM;
PRAGMA integrity_check;
DROP INDEX item_name;
SELECT 'final', count(*), (SELECT count(*) FROM sqlite_master) FROM item;
