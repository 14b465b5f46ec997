-- Referrals of households to services, and each move of their state: ids, states and days
-- only (what is asked of the service, outcomes and reasons stay in the operations' bodies),
-- for the households' follow-ups and the overview's counts. The consent that released a
-- referral when it arrived is named. An erasure deletes a household's rows here.
CREATE TABLE referrals (
    id         TEXT PRIMARY KEY NOT NULL,
    case_id    TEXT NOT NULL REFERENCES cases (id),
    op_id      TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    consent_id TEXT NOT NULL,
    made_by    TEXT NOT NULL REFERENCES users (id),
    made_ms    BIGINT NOT NULL,
    state      TEXT NOT NULL,
    -- The stamp of the update that set the state (the referral's own until one does).
    state_hlc  TEXT NOT NULL,
    state_ms   BIGINT NOT NULL,
    follow_up  TEXT
);

CREATE INDEX referrals_by_case ON referrals (case_id);

CREATE TABLE referral_updates (
    op_id       TEXT PRIMARY KEY NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    case_id     TEXT NOT NULL,
    state       TEXT NOT NULL,
    hlc         TEXT NOT NULL,
    updated_by  TEXT NOT NULL REFERENCES users (id),
    updated_ms  BIGINT NOT NULL
);

CREATE INDEX referral_updates_by_referral ON referral_updates (referral_id);
