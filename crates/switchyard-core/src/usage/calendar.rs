//! UTC calendar arithmetic for the reports (the store's daily rollups are UTC days), with
//! `jiff` rather than hand-written civil-date code.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// Now, in Unix ms.
pub fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

fn utc(ms: i64) -> Option<ZonedDateTime> {
    Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned_datetime(TimeZone::UTC))
}

/// The UTC date `ms` falls on (`None` outside years -9999..=9999).
pub(super) fn utc_date(ms: i64) -> Option<Date> {
    utc(ms).map(|z| z.date())
}

/// Unix ms of the start of `date` (UTC).
pub(super) fn date_start_ms(date: Date) -> Option<i64> {
    date.to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

/// Unix ms of the start of the UTC day `ms` falls in.
pub fn utc_day_start_ms(ms: i64) -> i64 {
    utc_date(ms).and_then(date_start_ms).unwrap_or(ms)
}

/// `2026-12-05T09:30:12.345Z`: ISO 8601, UTC, always with milliseconds.
pub fn iso_utc(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => format!("{t:.3}"),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23T00:00:00Z
    const NOV23: i64 = 1_795_392_000_000;

    #[test]
    fn days_start_at_utc_midnight() {
        assert_eq!(utc_day_start_ms(NOV23 + 86_399_999), NOV23);
        assert_eq!(utc_day_start_ms(NOV23), NOV23);
        assert_eq!(utc_day_start_ms(NOV23 - 1), NOV23 - 86_400_000);
        // A leap day and the epoch.
        assert_eq!(
            utc_date(951_782_400_000).map(|d| d.to_string()),
            Some("2000-02-29".to_owned())
        );
        assert_eq!(utc_day_start_ms(-1), -86_400_000);
    }

    #[test]
    fn iso_times_keep_milliseconds() {
        assert_eq!(
            iso_utc(NOV23 + 9 * 3_600_000 + 30 * 60_000 + 12_345),
            "2026-11-23T09:30:12.345Z"
        );
        assert_eq!(iso_utc(NOV23), "2026-11-23T00:00:00.000Z");
    }
}
