-- The teams whose data an export holds. The list of exports shows an export to its author and
-- to the users who belong to every one of those teams, never to a supervisor of only one of
-- them. Exports made before have no rows here: only their author sees them.
CREATE TABLE export_teams (
    export_id TEXT NOT NULL REFERENCES exports (id),
    team_id   TEXT NOT NULL REFERENCES teams (id),
    PRIMARY KEY (export_id, team_id)
);
