-- Consents and withdrawals (cris_core::consent), one row per record, beside the operation that
-- carried it (its body in `ops` is the record as signed). A record is never changed: its id
-- and its operation are unique, and `binding` (the SHA-256 sealing it) tells a retry of the
-- same record from a changed one. `consent_id` is the consent a withdrawal withdraws.
CREATE TABLE consents (
    id          TEXT PRIMARY KEY NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    kind        TEXT NOT NULL CHECK (kind IN ('consent', 'withdrawal')),
    consent_id  TEXT,
    binding     TEXT NOT NULL,
    op_id       TEXT NOT NULL UNIQUE REFERENCES ops (op_id),
    received_ms BIGINT NOT NULL
);

CREATE INDEX consents_by_case ON consents (case_id);
