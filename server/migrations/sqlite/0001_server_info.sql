-- Facts about this case store itself.
-- `instance_id` is made once, when the database is created: a phone that sees it change knows
-- it talks to a different (or restored) store and must sync again from the start.
CREATE TABLE server_info (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

INSERT INTO server_info (key, value) VALUES
    ('instance_id', lower(hex(randomblob(16)))),
    ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
