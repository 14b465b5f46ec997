-- The supervisor's dashboard (GET /api/v1/dashboard; see server/src/store/dashboard.rs).
--
-- What the dashboard counts is kept in derived tables, never the record itself: most of it is
-- only in the operations' bodies, too slow to read for every dashboard. Pushes do not write
-- them, so they stay as fast as before; a dashboard first summarises the households with
-- operations after `case_summaries_watermark.seq` (the highest `ops.seq` summarised) and then
-- moves the watermark. Rows carry their household's team (copied from `cases`: a household
-- does not change teams), so that every count reads the teams covered only, mostly a few
-- rows of counts. Erasing a household must delete its rows here too: its summary holds its
-- name (personal data), and its foreign key will not let the household go before it does.
-- The other tables hold ids, days and counts only, and no foreign key (a check per row would
-- make every refresh slower).
-- Days are days since 1970-01-01 (UTC).

-- Per household: `seq` is the highest `ops.seq` its summary was made from (a summary never
-- replaces one made from more of the log); `dues` the due days of its open steps that have
-- one, oldest first, separated by commas, and `first_due` the first of them; `consent_until`
-- the last day its consents grant anything (2147483647: until withdrawn; NULL: nothing on any
-- day).
CREATE TABLE case_summaries (
    case_id          TEXT PRIMARY KEY NOT NULL REFERENCES cases (id),
    team_id          TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    household_name   TEXT NOT NULL,
    housing          TEXT,
    housing_conflict INTEGER NOT NULL CHECK (housing_conflict IN (0, 1)),
    open_steps       INTEGER NOT NULL,
    last_visit       INTEGER,
    first_due        INTEGER,
    dues             TEXT NOT NULL,
    consent_until    INTEGER,
    consents         INTEGER NOT NULL,
    withdrawals      INTEGER NOT NULL
) STRICT;

-- The households with steps due on a day or before, by team.
CREATE INDEX case_summaries_due ON case_summaries (team_id, first_due)
    WHERE first_due IS NOT NULL;

-- Every home visit that is not a correction, by worker (who pushed it) and the day the phone
-- finalized it, as `submissions` has them: kept once each, never changed.
CREATE TABLE case_summary_visits (
    submission_id TEXT PRIMARY KEY NOT NULL,
    team_id       TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    day           INTEGER NOT NULL
) STRICT;

-- What the dashboard counts, counted as the summaries and visits above are written: reading
-- them costs the same however many households and visits a team has had. Their writers take
-- turns (SQLite: the one write lock; PostgreSQL: an advisory lock), and each changes the
-- counts by what it changed in the same transaction, so they always agree with the tables
-- they count.
-- Households by team, housing ('': none), whether it is in conflict, and the last day their
-- consents grant anything (-9223372036854775808: never), with their consents and withdrawals.
CREATE TABLE household_counts (
    team_id          TEXT NOT NULL,
    housing          TEXT NOT NULL,
    housing_conflict INTEGER NOT NULL CHECK (housing_conflict IN (0, 1)),
    consent_until    INTEGER NOT NULL,
    households       INTEGER NOT NULL,
    consents         INTEGER NOT NULL,
    withdrawals      INTEGER NOT NULL,
    PRIMARY KEY (team_id, housing, housing_conflict, consent_until)
) STRICT;

-- Home visits by team, day and worker.
CREATE TABLE visit_counts (
    team_id TEXT NOT NULL,
    day     INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    visits  INTEGER NOT NULL,
    PRIMARY KEY (team_id, day, user_id)
) STRICT;

-- One row: the highest `ops.seq` every household's summary covers.
CREATE TABLE case_summaries_watermark (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
) STRICT;

INSERT INTO case_summaries_watermark (id, seq) VALUES (1, 0);

-- When each device last reached the server, per account using it (server clock): pushes
-- note it in the group's transaction (one small statement per group), pulls at most once a
-- minute (a phone pulls page after page). The device of a push is the one its operations
-- were made on; of a pull, the session's.
CREATE TABLE device_syncs (
    device_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    last_push_ms INTEGER,
    last_pull_ms INTEGER,
    PRIMARY KEY (device_id, user_id)
) STRICT;

CREATE INDEX device_syncs_by_user ON device_syncs (user_id);
