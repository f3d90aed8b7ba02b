//! Tracing requests as PFIF 1.4 (People Finder Interchange Format), the XML the
//! humanitarian people-finder services exchange. Only who is sought goes out: never a
//! match, a status or a location (a "found" note would say where a child is).
use serde_json::Value;

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn birth(v: &Value) -> (String, String) {
    let b = &v["sought_birth"];
    match s(b, "precision") {
        "exact" => (s(b, "date").to_string(), String::new()),
        "year_month" => (
            format!("{}-{:02}", b["year"], b["month"].as_u64().unwrap_or(1)),
            String::new(),
        ),
        "year" => (b["year"].to_string(), String::new()),
        "estimated_age" => (String::new(), b["age"].to_string()),
        _ => (String::new(), String::new()),
    }
}

/// One `<pfif:person>` per request (as the viewer may see it), in one document.
/// `domain` names this server in record ids (`domain/tracing_request.ID`).
pub fn document(requests: &[Value], domain: &str) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<pfif:pfif xmlns:pfif=\"http://zesty.ca/pfif/1.4\">\n",
    );
    for r in requests {
        let names: Vec<&Value> = r["sought_names"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let Some(first) = names.first() else { continue };
        let full = |n: &Value| {
            [s(n, "given"), s(n, "family")]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (dob, age) = birth(r);
        let field = |x: &mut String, tag: &str, value: &str| {
            if !value.is_empty() {
                x.push_str(&format!("    <pfif:{tag}>{}</pfif:{tag}>\n", esc(value)));
            }
        };
        x.push_str("  <pfif:person>\n");
        let id = format!("{domain}/tracing_request.{}", s(r, "id"));
        let created = s(r, "created_at")
            .split('.')
            .next()
            .unwrap_or("")
            .to_string();
        let entry = if created.is_empty() {
            String::new()
        } else {
            format!("{created}Z")
        };
        let author = if r["consent_to_share"] == true {
            let n = &r["requester_name"];
            full(n)
        } else {
            String::new()
        };
        let alternates: Vec<String> = names.iter().skip(1).map(|n| full(n)).collect();
        let sex = match s(r, "sought_sex") {
            "female" => "female",
            "male" => "male",
            _ => "",
        };
        field(&mut x, "person_record_id", &id);
        field(&mut x, "entry_date", &entry);
        field(&mut x, "author_name", &author);
        field(&mut x, "source_name", "amparo");
        field(&mut x, "source_date", &entry);
        field(&mut x, "full_name", &full(first));
        field(&mut x, "given_name", s(first, "given"));
        field(&mut x, "family_name", s(first, "family"));
        field(&mut x, "alternate_names", &alternates.join("\n"));
        field(&mut x, "sex", sex);
        field(&mut x, "date_of_birth", &dob);
        field(&mut x, "age", &age);
        field(&mut x, "home_country", s(r, "requester_country"));
        field(&mut x, "description", s(r, "distinguishing_details"));
        x.push_str("  </pfif:person>\n");
    }
    x.push_str("</pfif:pfif>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_person_with_spellings_and_nothing_about_where() {
        let r = json!({"id": "r1", "created_at": "2026-11-29T10:00:00.123+00:00",
            "sought_names": [{"given": "Yankel", "family": "Weingarten"}, {"given": "יעקב", "family": "ווינגארטן"}],
            "sought_sex": "male", "sought_birth": {"precision": "year", "year": 2014},
            "requester_name": {"given": "Perla", "family": "M<adre"}, "consent_to_share": true,
            "status": "matched", "decisions": [{"child_id": "c"}], "requester_country": "CA"});
        let x = document(&[r], "amparo.test");
        assert!(
            x.contains("<pfif:full_name>Yankel Weingarten</pfif:full_name>"),
            "{x}"
        );
        assert!(x.contains("<pfif:alternate_names>יעקב ווינגארטן</pfif:alternate_names>"));
        assert!(x.contains("<pfif:date_of_birth>2014</pfif:date_of_birth>"));
        assert!(x.contains("M&lt;adre"));
        assert!(!x.contains("matched") && !x.contains("<pfif:note>"));
    }
}
