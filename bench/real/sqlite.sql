-- bench/run: sqlite3 workload (in-memory database; every page lives in malloc'd memory).
-- Inserts, two indexes, joins, aggregates, updates and deletes; prints only results
-- that do not depend on the allocator.  SPDX-License-Identifier: MIT
PRAGMA cache_size = -262144;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
INSERT INTO item SELECT i, (i * 7919) % 10007, printf('item-%05d-%x', i % 20000, i * 2654435761 % 65536),
                        (i % 997) * 0.25, substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26, 1 + i % 17)
FROM n;
CREATE INDEX item_grp ON item(grp);
CREATE INDEX item_name ON item(name, price);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 10006)
INSERT INTO grp SELECT i, 'group ' || hex(i * 40503 % 65536) FROM n;
SELECT count(*), sum(grp), max(name), round(sum(price), 2) FROM item;
SELECT g.label, count(*), round(avg(i.price), 3) FROM item i JOIN grp g ON g.id = i.grp
  GROUP BY g.id ORDER BY count(*) DESC, g.id LIMIT 5;
SELECT name, count(*) FROM item WHERE name LIKE 'item-1%' GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5;
UPDATE item SET note = note || '-' || name WHERE grp % 3 = 0;
DELETE FROM item WHERE grp % 5 = 0;
SELECT count(*), sum(length(note)), count(DISTINCT name) FROM item;
SELECT group_concat(id) FROM (SELECT id FROM item WHERE price > 240 ORDER BY name, id LIMIT 10);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO item(grp, name, price, note) SELECT i % 101, 'new-' || i, i % 13, zeroblob(i % 300) FROM n;
SELECT count(*), sum(length(note)) FROM item;
SELECT grp, count(*) FROM item GROUP BY grp HAVING count(*) > 1000 ORDER BY grp LIMIT 5;
