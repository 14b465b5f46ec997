-- The names each household was recorded under (every value its forms wrote to
-- `household_name`, conflicting ones and replaced ones too), in the form names are compared in
-- (cris_core::duplicates::comparable: lower case, Latin letters, ş/s and the like brought
-- together): what the review queue's search by household name reads. The folding is Rust's,
-- so pushes write the rows, and the store fills them for what was logged before this table
-- existed when it opens (`server_info` 'case_names' says it still has to). Erasing a household
-- must delete its rows here too: they are its names.
CREATE TABLE case_names (
    case_id TEXT NOT NULL REFERENCES cases (id),
    name    TEXT NOT NULL,
    PRIMARY KEY (case_id, name)
);

INSERT INTO server_info (key, value) VALUES ('case_names', 'to fill');
