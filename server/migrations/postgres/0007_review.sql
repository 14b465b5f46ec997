-- Review: supervisors approve a submission or send it back with a comment. A submission now
-- carries what a review queue filters and sorts on, and where it stands in review (see
-- migrations/sqlite/0006_review.sql); rows of earlier pushes are filled from the operation
-- that carried them (`ops.body` is the operation as JSON text); none has been reviewed yet.
-- `user_id` is that of the operation (whose key it checks): a second check of the same key
-- for every submission would slow down pushes for nothing.
ALTER TABLE submissions
    ADD COLUMN user_id TEXT,
    ADD COLUMN received_ms BIGINT,
    ADD COLUMN finalized_ms BIGINT,
    ADD COLUMN corrects TEXT REFERENCES submissions (id),
    ADD COLUMN review_status TEXT NOT NULL DEFAULT 'new'
        CHECK (review_status IN ('new', 'approved', 'changes_requested', 'corrected', 'resubmitted'));

UPDATE submissions s
SET user_id = o.user_id,
    received_ms = o.received_ms,
    finalized_ms = floor((o.body::jsonb #>> '{change,submission,finalized_at_ms}')::double precision)::bigint,
    corrects = o.body::jsonb #>> '{change,submission,corrects,submission_id}'
FROM ops o
WHERE o.op_id = s.op_id;

ALTER TABLE submissions
    ALTER COLUMN user_id SET NOT NULL,
    ALTER COLUMN received_ms SET NOT NULL,
    ALTER COLUMN finalized_ms SET NOT NULL;

-- The queue: newest received first, whole or by worker or status; corrections of a
-- submission. (A form is a large share of the queue: its filter reads the first index.)
CREATE INDEX submissions_by_received ON submissions (received_ms, id);
CREATE INDEX submissions_by_user ON submissions (user_id, received_ms, id);
CREATE INDEX submissions_by_status ON submissions (review_status, received_ms, id);
CREATE INDEX submissions_by_corrects ON submissions (corrects) WHERE corrects IS NOT NULL;

-- Every review decision, appended and never changed: a submission's review status follows
-- from its latest event (and from the corrections that came since).
CREATE TABLE review_events (
    id            BIGSERIAL PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    decision      TEXT NOT NULL CHECK (decision IN ('approved', 'changes_requested')),
    comment       TEXT NOT NULL,
    reviewer_id   TEXT NOT NULL REFERENCES users (id),
    at_ms         BIGINT NOT NULL
);

CREATE INDEX review_events_by_submission ON review_events (submission_id, id);
