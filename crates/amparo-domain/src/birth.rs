//! Dates of birth are often unknown: exact, year and month, year, or an estimated age
//! at a date. Each form says which it is.
use crate::error::Invalid;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "precision", rename_all = "snake_case", deny_unknown_fields)]
pub enum Birth {
    #[default]
    Unknown,
    Exact {
        date: NaiveDate,
    },
    YearMonth {
        year: i32,
        month: u32,
    },
    Year {
        year: i32,
    },
    /// "About 7" said on a given day.
    EstimatedAge {
        age: u32,
        at: NaiveDate,
    },
}

const EARLIEST_YEAR: i32 = 1900;
const OLDEST_AGE: u32 = 120;

impl Birth {
    /// Reject dates in the future or implausibly far back.
    pub fn validate(&self, today: NaiveDate) -> Result<(), Invalid> {
        let year_ok = |year: i32| -> Result<(), Invalid> {
            if year > today.year() {
                Err(Invalid::one(
                    "year",
                    format!("{year} is in the future: give the year the person was born"),
                ))
            } else if year < EARLIEST_YEAR {
                Err(Invalid::one(
                    "year",
                    format!("{year} is before {EARLIEST_YEAR}: check the year"),
                ))
            } else {
                Ok(())
            }
        };
        match *self {
            Birth::Unknown => Ok(()),
            Birth::Exact { date } => {
                if date > today {
                    Err(Invalid::one(
                        "date",
                        format!("{date} is in the future: give the date the person was born"),
                    ))
                } else {
                    year_ok(date.year()).map_err(|_| {
                        Invalid::one("date", format!("{date} is before {EARLIEST_YEAR}"))
                    })
                }
            }
            Birth::YearMonth { year, month } => {
                year_ok(year)?;
                if !(1..=12).contains(&month) {
                    return Err(Invalid::one(
                        "month",
                        format!("{month} is not a month: use 1 to 12"),
                    ));
                }
                if year == today.year() && month > today.month() {
                    return Err(Invalid::one(
                        "month",
                        format!("{year}-{month:02} is in the future"),
                    ));
                }
                Ok(())
            }
            Birth::Year { year } => year_ok(year),
            Birth::EstimatedAge { age, at } => {
                if at > today {
                    return Err(Invalid::one(
                        "at",
                        format!("{at} is in the future: give the day the age was estimated"),
                    ));
                }
                if age > OLDEST_AGE {
                    return Err(Invalid::one(
                        "age",
                        format!("{age} is not a plausible age: use 0 to {OLDEST_AGE}"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Earliest and latest possible birth dates, if anything is known.
    pub fn range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
        match *self {
            Birth::Unknown => None,
            Birth::Exact { date } => Some((date, date)),
            Birth::YearMonth { year, month } => {
                let first = ymd(year, month, 1)?;
                let next = if month == 12 {
                    ymd(year + 1, 1, 1)?
                } else {
                    ymd(year, month + 1, 1)?
                };
                Some((first, next.pred_opt()?))
            }
            Birth::Year { year } => Some((ymd(year, 1, 1)?, ymd(year, 12, 31)?)),
            // An estimate is taken to be right within a year either way.
            Birth::EstimatedAge { age, at } => {
                let years = |n: i64| at.with_year(at.year() - n as i32);
                let earliest = years(age as i64 + 2)?.succ_opt()?;
                let latest = years((age as i64 - 1).max(0))?;
                Some((earliest, latest))
            }
        }
    }

    /// Youngest and oldest possible age in whole years on `day`.
    pub fn age_range_on(&self, day: NaiveDate) -> Option<(u32, u32)> {
        let (earliest, latest) = self.range()?;
        let youngest = age_on(latest, day)?;
        let oldest = age_on(earliest, day)?;
        Some((youngest, oldest))
    }

    /// Could this person be under 18 on `day`? Unknown birth answers `None`.
    pub fn possibly_minor_on(&self, day: NaiveDate) -> Option<bool> {
        self.age_range_on(day).map(|(youngest, _)| youngest < 18)
    }
}

/// Read a birth as people type it: "7" or "about 7" / "unos 7" / "~7" (an age today),
/// "2015", "2015-03", "2015-03-31", "31/03/2015", "20150331". Empty means unknown.
pub fn parse_birth_text(raw: &str, today: NaiveDate) -> Result<Birth, String> {
    let t = raw.trim().to_lowercase();
    if t.is_empty() {
        return Ok(Birth::Unknown);
    }
    let approx = [
        "about ", "approx ", "ca. ", "ca ", "unos ", "aprox ", "aprox. ", "~",
    ];
    let mut body = t.as_str();
    let mut said_about = false;
    for p in approx {
        if let Some(rest) = body.strip_prefix(p) {
            body = rest.trim();
            said_about = true;
        }
    }
    let body = body
        .trim_end_matches(" years")
        .trim_end_matches(" años")
        .trim();
    let birth = if body.len() <= 3 && body.chars().all(|c| c.is_ascii_digit()) {
        let age: u32 = body.parse().map_err(|_| format!("'{raw}' is not an age"))?;
        Birth::EstimatedAge { age, at: today }
    } else if said_about {
        return Err(format!("'{raw}': write an age (about 7) or a date"));
    } else if body.len() == 4 && body.chars().all(|c| c.is_ascii_digit()) {
        Birth::Year {
            year: body.parse().map_err(|_| format!("'{raw}' is not a year"))?,
        }
    } else if body.len() == 8 && body.chars().all(|c| c.is_ascii_digit()) {
        let date = NaiveDate::parse_from_str(body, "%Y%m%d")
            .map_err(|_| format!("'{raw}': no such date"))?;
        Birth::Exact { date }
    } else if let Some((y, m)) = body.split_once('-').filter(|(_, m)| !m.contains('-')) {
        let year: i32 = y
            .parse()
            .map_err(|_| format!("'{raw}' is not a year-month"))?;
        let month: u32 = m
            .parse()
            .map_err(|_| format!("'{raw}' is not a year-month"))?;
        Birth::YearMonth { year, month }
    } else {
        let date = NaiveDate::parse_from_str(body, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(body, "%d/%m/%Y"))
            .or_else(|_| NaiveDate::parse_from_str(body, "%d.%m.%Y"))
            .map_err(|_| {
                format!(
                    "'{raw}': no such date; write 31/12/2015, 2015-12-31, 2015 or an age such as 7"
                )
            })?;
        Birth::Exact { date }
    };
    birth.validate(today).map_err(|e| {
        e.0.into_iter()
            .map(|f| f.message)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    Ok(birth)
}

/// Whole years from `born` to `day`; `None` if `day` is before `born`.
pub fn age_on(born: NaiveDate, day: NaiveDate) -> Option<u32> {
    if day < born {
        return Some(0);
    }
    let mut years = day.year() - born.year();
    if (day.month(), day.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }
    #[test]
    fn future_year_is_named() {
        let e = Birth::Year { year: 2031 }.validate(d("2026-11-29"));
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("year 2031 is in the future"), "{msg}");
    }
    #[test]
    fn age_ranges() {
        let today = d("2026-11-29");
        assert_eq!(
            Birth::Exact {
                date: d("2010-11-30")
            }
            .age_range_on(today),
            Some((15, 15))
        );
        assert_eq!(
            Birth::Year { year: 2010 }.age_range_on(today),
            Some((15, 16))
        );
        let est = Birth::EstimatedAge { age: 7, at: today };
        let (young, old) = est.age_range_on(today).unwrap_or((99, 99));
        assert!(young <= 7 && old >= 7 && old - young <= 3, "{young}-{old}");
        assert_eq!(
            Birth::Year { year: 2008 }.possibly_minor_on(today),
            Some(true)
        );
        assert_eq!(
            Birth::Year { year: 2000 }.possibly_minor_on(today),
            Some(false)
        );
        assert_eq!(Birth::Unknown.possibly_minor_on(today), None);
    }
    #[test]
    fn typed_births() {
        let today = d("2026-11-29");
        let p = |s: &str| parse_birth_text(s, today);
        assert_eq!(p("7"), Ok(Birth::EstimatedAge { age: 7, at: today }));
        assert_eq!(p("about 7"), Ok(Birth::EstimatedAge { age: 7, at: today }));
        assert_eq!(
            p("unos 7 años"),
            Ok(Birth::EstimatedAge { age: 7, at: today })
        );
        assert_eq!(p("2015"), Ok(Birth::Year { year: 2015 }));
        assert_eq!(
            p("2015-03"),
            Ok(Birth::YearMonth {
                year: 2015,
                month: 3
            })
        );
        assert_eq!(
            p("31/12/2015"),
            Ok(Birth::Exact {
                date: d("2015-12-31")
            })
        );
        assert_eq!(
            p("20151231"),
            Ok(Birth::Exact {
                date: d("2015-12-31")
            })
        );
        assert_eq!(p(""), Ok(Birth::Unknown));
        assert!(p("31/02/2015").unwrap_err().contains("no such date"));
        assert!(p("2031").unwrap_err().contains("future"));
        assert!(p("about soon").is_err());
    }
    #[test]
    fn bad_month() {
        assert!(Birth::YearMonth {
            year: 2015,
            month: 13
        }
        .validate(d("2026-01-01"))
        .is_err());
    }
}
