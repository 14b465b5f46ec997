-- The households whose data an export holds (ids only), so that a family's copy can say
-- which reports included it. Exports made before have no rows here. An erasure keeps these
-- rows, as it keeps the tombstone: they name no one, and say where the family's data went.
CREATE TABLE export_cases (
    export_id TEXT NOT NULL REFERENCES exports (id),
    case_id   TEXT NOT NULL,
    PRIMARY KEY (case_id, export_id)
) STRICT;
