//! The dashboard put together from what its queries counted.

use super::*;

/// What the dashboard's queries read, to be put together by [`dashboard_of`].
#[derive(Debug, Default)]
pub(crate) struct Counted {
    pub teams: Vec<String>,
    /// `(login, display_name)`.
    pub workers: Vec<(String, String)>,
    /// `(login, display_name, day, visits)`.
    pub visits: Vec<(String, String, i64, i64)>,
    pub households: Vec<HouseholdRow>,
    /// `(case_id, household_name, due days)`.
    pub overdue: Vec<(String, String, String)>,
    pub devices: Vec<DeviceRow>,
    /// `(reason, households)` of the closed cases.
    pub closed: Vec<(String, i64)>,
    /// `(recipient, state, day, referrals)`.
    pub referrals: Vec<(String, String, i64, i64)>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

fn day(days: i64) -> Result<Date, StoreError> {
    i32::try_from(days)
        .map(Date::from_days)
        .map_err(|e| decode::corrupt("day", days, e))
}

/// The dashboard from what its queries read.
pub(crate) fn dashboard_of(filter: &DashboardFilter, c: Counted) -> Result<Dashboard, StoreError> {
    let weeks = filter.week_starts();
    let to = i64::from(filter.to.days());
    let visits = visits_of(&weeks, &c.workers, &c.visits);
    let (housing, consents) = households_of(c.households, to);
    let referrals = referrals_of(&weeks, c.referrals)?;
    Ok(Dashboard {
        teams: c.teams,
        to: filter.to,
        weeks,
        visits,
        housing,
        overdue: overdue_list(c.overdue, to)?,
        consents,
        devices: devices_of(c.devices),
        closed: closed_of(c.closed)?,
        referrals,
    })
}

/// The referrals by service and state, week by week.
fn referrals_of(
    weeks: &[Date],
    rows: Vec<(String, String, i64, i64)>,
) -> Result<Vec<ReferralCounts>, StoreError> {
    let first = i64::from(weeks[0].days());
    let mut counts: BTreeMap<(String, ReferralState), ReferralCounts> = BTreeMap::new();
    for (recipient, state, day, n) in rows {
        let state = ReferralState::parse(&state)
            .ok_or_else(|| decode::corrupt("referral state", &state, "no such state"))?;
        let entry = counts
            .entry((recipient.clone(), state))
            .or_insert_with(|| ReferralCounts {
                recipient,
                state,
                per_week: vec![0; weeks.len()],
                total: 0,
            });
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(slot) = usize::try_from((day - first).div_euclid(7))
            .ok()
            .and_then(|w| entry.per_week.get_mut(w))
        {
            *slot += n;
            entry.total += n;
        }
    }
    Ok(counts.into_values().collect())
}

/// The closed households by why, as the store wrote the reasons.
fn closed_of(rows: Vec<(String, i64)>) -> Result<BTreeMap<record::CloseReason, u64>, StoreError> {
    rows.into_iter()
        .map(|(reason, n)| {
            let why = record::CloseReason::parse(&reason)
                .ok_or_else(|| decode::corrupt("closing reason", &reason, "unknown"))?;
            Ok((why, count(n)))
        })
        .collect()
}

/// Each worker's visits per week (of `weeks`), every worker of the teams listed, by name.
fn visits_of(
    weeks: &[Date],
    workers: &[(String, String)],
    counted: &[(String, String, i64, i64)],
) -> Vec<WorkerVisits> {
    let first = i64::from(weeks[0].days());
    let mut visits: BTreeMap<String, WorkerVisits> = BTreeMap::new();
    let row = |login: &str, name: &str| WorkerVisits {
        login: login.to_owned(),
        display_name: name.to_owned(),
        per_week: vec![0; weeks.len()],
        total: 0,
    };
    for (login, name) in workers {
        visits.insert(login.clone(), row(login, name));
    }
    for (login, name, day, n) in counted {
        let entry = visits
            .entry(login.clone())
            .or_insert_with(|| row(login, name));
        let n = u32::try_from(*n).unwrap_or(u32::MAX);
        if let Some(slot) = usize::try_from((day - first).div_euclid(7))
            .ok()
            .and_then(|w| entry.per_week.get_mut(w))
        {
            *slot += n;
            entry.total += n;
        }
    }
    let mut visits: Vec<WorkerVisits> = visits.into_values().collect();
    visits.sort_by_cached_key(|w| (fold(&w.display_name), w.login.clone()));
    visits
}

/// The households by housing, and their consents, as they stand on the day `to`.
fn households_of(households: Vec<HouseholdRow>, to: i64) -> (HousingCounts, ConsentCounts) {
    let mut housing = HousingCounts::default();
    let mut consents = ConsentCounts::default();
    for (value, conflict, until, n, held, withdrawn) in households {
        let n = count(n);
        housing.households += n;
        if value == NO_HOUSING {
            housing.no_value += n;
        } else {
            *housing.by_value.entry(value).or_default() += n;
            if conflict {
                housing.in_conflict += n;
            }
        }
        if until >= to {
            consents.households_in_force += n;
        }
        consents.consents += count(held);
        consents.withdrawals += count(withdrawn);
    }
    (housing, consents)
}

/// The households with steps overdue on the day `to`, the most overdue first.
fn overdue_list(rows: Vec<(String, String, String)>, to: i64) -> Result<Overdue, StoreError> {
    let mut overdue = Overdue::default();
    for (case_id, household_name, dues) in rows {
        let (n, oldest) = overdue_of(&dues, to)?;
        let Some(oldest) = oldest else { continue };
        overdue.steps += u64::from(n);
        overdue.households += 1;
        overdue.most.push(OverdueHousehold {
            case_id,
            household_name,
            overdue: n,
            oldest_due: day(oldest)?,
        });
    }
    overdue.most.sort_by(|a, b| {
        (b.overdue, a.oldest_due, &a.case_id).cmp(&(a.overdue, b.oldest_due, &b.case_id))
    });
    overdue.most.truncate(MAX_OVERDUE_LISTED);
    Ok(overdue)
}

/// The devices, the longest silent first.
fn devices_of(rows: Vec<DeviceRow>) -> Vec<DeviceSync> {
    let mut devices: Vec<DeviceSync> = rows
        .into_iter()
        .map(
            |(
                device_id,
                login,
                display_name,
                last_push_ms,
                last_pull_ms,
                revoked_ms,
                revoked_by,
            )| {
                DeviceSync {
                    device_id,
                    login,
                    display_name,
                    last_push_ms,
                    last_pull_ms,
                    revoked_ms,
                    revoked_by,
                }
            },
        )
        .collect();
    // The longest silent first: by the latest time it reached the server.
    devices.sort_by(|a, b| {
        let last = |d: &DeviceSync| d.last_push_ms.max(d.last_pull_ms);
        (last(a), &a.login, &a.device_id).cmp(&(last(b), &b.login, &b.device_id))
    });
    devices
}
