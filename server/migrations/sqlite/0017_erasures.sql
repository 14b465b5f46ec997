-- Erasure of a household (GDPR Art. 17, and the agency's retention period run out): every
-- personal value of it goes (the operations it was written in, its forms, consents, names,
-- summary and review comments), and what stays is a tombstone: the household's id and team,
-- the ids, kinds and days of what existed, who erased it, when and why. The household's row
-- in `cases` stays (it holds its id, team and creation time only) and says since when it is
-- erased; the log keeps one operation of it, the erasure, which phones pull and follow.
ALTER TABLE cases ADD COLUMN erased_ms INTEGER;

CREATE TABLE erasures (
    case_id   TEXT PRIMARY KEY NOT NULL REFERENCES cases (id),
    op_id     TEXT NOT NULL UNIQUE REFERENCES ops (op_id),
    team_id   TEXT NOT NULL,
    erased_ms INTEGER NOT NULL,
    -- The login of the administrator, or 'retention' when the period ran out.
    erased_by TEXT NOT NULL,
    reason    TEXT NOT NULL,
    -- JSON: what existed, without a value of it (see server/src/store/erase.rs).
    held      TEXT NOT NULL
) STRICT;

-- The server's own account, in whose name it logs what it does by itself (an erasure): it
-- cannot log in (disabled, and no password hashes to its hash).
INSERT INTO users (id, login, display_name, role, password_hash, disabled, created_ms)
VALUES ('00000000-0000-7000-8000-000000000000', 'cris-server', 'CRIS Field server', 'admin', '!', 1, 0);
