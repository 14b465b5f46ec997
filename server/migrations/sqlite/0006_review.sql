-- Review: supervisors approve a submission or send it back with a comment. A submission now
-- carries what a review queue filters and sorts on: who pushed it (`user_id`), when the store
-- received it (`received_ms`), when the phone finalized it (`finalized_ms`, whole
-- milliseconds), which submission it corrects (`corrects`) and where it stands in review
-- (`review_status`: derived from its review events and the corrections that arrived, and
-- kept up to date by the writes that change it, so that the queue filters on an index).
-- Rows of earlier pushes are filled from the operation that carried them; none has been
-- reviewed yet. `user_id` is that of the operation (whose key it checks): a second check of
-- the same key for every submission would slow down pushes for nothing.
ALTER TABLE submissions ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN received_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN finalized_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN corrects TEXT REFERENCES submissions (id);
ALTER TABLE submissions ADD COLUMN review_status TEXT NOT NULL DEFAULT 'new'
    CHECK (review_status IN ('new', 'approved', 'changes_requested', 'corrected', 'resubmitted'));

UPDATE submissions
SET user_id = o.user_id,
    received_ms = o.received_ms,
    finalized_ms = CAST(json_extract(o.body, '$.change.submission.finalized_at_ms') AS INTEGER),
    corrects = json_extract(o.body, '$.change.submission.corrects.submission_id')
FROM ops o
WHERE o.op_id = submissions.op_id;

-- The queue: newest received first, whole or by worker or status; corrections of a
-- submission. (A form is a large share of the queue: its filter reads the first index.)
CREATE INDEX submissions_by_received ON submissions (received_ms, id);
CREATE INDEX submissions_by_user ON submissions (user_id, received_ms, id);
CREATE INDEX submissions_by_status ON submissions (review_status, received_ms, id);
CREATE INDEX submissions_by_corrects ON submissions (corrects) WHERE corrects IS NOT NULL;

-- Every review decision, appended and never changed: a submission's review status follows
-- from its latest event (and from the corrections that came since).
CREATE TABLE review_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    decision      TEXT NOT NULL CHECK (decision IN ('approved', 'changes_requested')),
    comment       TEXT NOT NULL,
    reviewer_id   TEXT NOT NULL REFERENCES users (id),
    at_ms         INTEGER NOT NULL
) STRICT;

CREATE INDEX review_events_by_submission ON review_events (submission_id, id);
