-- Merges of households: a supervisor found that two households recorded separately (two
-- workers, offline) are one family. The merged household keeps its id and every record it
-- has (its forms, consents, properties and log stay under its own id); it is shown as part of
-- the household it joined, which `cases.merged_into` names while the merge stands. Undoing a
-- merge clears that and marks the merge undone; nothing else changes, so nothing is lost
-- either way. Both the merge and its undoing are operations in the log (`ops`), which
-- phones pull and follow.
CREATE TABLE case_merges (
    op_id        TEXT PRIMARY KEY NOT NULL REFERENCES ops (op_id),
    case_id      TEXT NOT NULL REFERENCES cases (id),
    into_id      TEXT NOT NULL REFERENCES cases (id),
    merged_by    TEXT NOT NULL REFERENCES users (id),
    merged_ms    BIGINT NOT NULL,
    undone_op_id TEXT UNIQUE REFERENCES ops (op_id),
    undone_by    TEXT REFERENCES users (id),
    undone_ms    BIGINT
);

-- A household is merged into one other at a time.
CREATE UNIQUE INDEX case_merges_standing ON case_merges (case_id) WHERE undone_op_id IS NULL;
CREATE INDEX case_merges_into ON case_merges (into_id) WHERE undone_op_id IS NULL;

ALTER TABLE cases ADD COLUMN merged_into TEXT REFERENCES cases (id);
