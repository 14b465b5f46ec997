-- Closings of households' cases: the family moved away, left benefits, reached its goals, was
-- out of contact for months, or another reason. A closing is an operation in the log, and so
-- is its taking back (reopening): phones pull both and follow (a closed case leaves the
-- workers' phones; supervisors still see it). While a closing stands (`reopened_op_id` is
-- NULL), the agency's retention period runs from `closed_ms`. Nothing of the household is
-- changed by either.
CREATE TABLE case_closings (
    op_id          TEXT PRIMARY KEY NOT NULL REFERENCES ops (op_id),
    case_id        TEXT NOT NULL REFERENCES cases (id),
    reason         TEXT NOT NULL
        CHECK (reason IN ('moved_away', 'left_benefits', 'goals_reached', 'no_contact', 'other')),
    closed_by      TEXT NOT NULL REFERENCES users (id),
    closed_ms      INTEGER NOT NULL,
    reopened_op_id TEXT UNIQUE REFERENCES ops (op_id),
    reopened_by    TEXT REFERENCES users (id),
    reopened_ms    INTEGER
) STRICT;

-- A case is closed once at a time.
CREATE UNIQUE INDEX case_closings_standing ON case_closings (case_id)
    WHERE reopened_op_id IS NULL;
CREATE INDEX case_closings_of_case ON case_closings (case_id);
