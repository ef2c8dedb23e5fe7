use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Daily,
    Monthly,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Daily => "today",
            Period::Monthly => "this month",
        }
    }
}

/// Start of the UTC day containing `ms`.
pub fn day_start_ms(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

/// Start of the UTC month containing `ms`.
pub fn month_start_ms(ms: i64) -> i64 {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    days_from_civil(y, m, 1) * DAY_MS
}

/// When the period containing `now_ms` ends.
pub fn next_reset_ms(period: Period, now_ms: i64) -> i64 {
    match period {
        Period::Daily => day_start_ms(now_ms) + DAY_MS,
        Period::Monthly => {
            let (y, m, _) = civil_from_days(now_ms.div_euclid(DAY_MS));
            let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(y, m, 1) * DAY_MS
        }
    }
}

/// Midnight UTC of a calendar date, or `None` for an impossible date.
pub fn utc_midnight_ms(year: i64, month: u32, day: u32) -> Option<i64> {
    let days = days_from_civil(year, month, day);
    (civil_from_days(days) == (year, month, day)).then_some(days * DAY_MS)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) for a Unix time in milliseconds.
pub fn format_utc_ms(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let secs = ms.rem_euclid(DAY_MS) / 1000;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

// Howard Hinnant's algorithms (proleptic Gregorian calendar, days since 1970-01-01).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_boundaries() {
        // 2026-11-23T12:00:00Z → 2026-11-01 and 2026-12-01.
        let t = 1_795_435_200_000;
        assert_eq!(month_start_ms(t), 1_793_491_200_000);
        assert_eq!(next_reset_ms(Period::Monthly, t), 1_796_083_200_000);
        // 2026-12-31 → 2027-01-01.
        assert_eq!(
            next_reset_ms(Period::Monthly, 1_798_675_200_000),
            1_798_761_600_000
        );
        assert_eq!(day_start_ms(t), 1_795_392_000_000);
        assert_eq!(next_reset_ms(Period::Daily, t), 1_795_478_400_000);
        assert_eq!(utc_midnight_ms(2026, 11, 1), Some(1_793_491_200_000));
        assert_eq!(utc_midnight_ms(2026, 2, 30), None);
        assert_eq!(format_utc_ms(t + 61_000), "2026-11-23 12:01:01");
    }
}
