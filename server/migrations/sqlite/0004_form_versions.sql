-- Every version of every form the servers of this store have served, kept for good: an
-- operation made under an older version (on a phone that was offline while the form changed)
-- is still checked against the very definition it was filled in.
CREATE TABLE form_versions (
    form_id         TEXT NOT NULL,
    version         INTEGER NOT NULL,
    definition      TEXT NOT NULL,
    first_served_ms INTEGER NOT NULL,
    PRIMARY KEY (form_id, version)
) STRICT;
