-- Facts about this case store itself (see migrations/sqlite/0001_server_info.sql).
CREATE TABLE server_info (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

INSERT INTO server_info (key, value) VALUES
    ('instance_id', replace(gen_random_uuid()::text, '-', '')),
    ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
