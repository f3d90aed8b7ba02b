//! The demo operation of SCENARIO.md with invented people: 160 children in 50
//! families, parents in Guatemala, the US and Canada, two facilities, every child
//! placed with a legal basis. Deterministic: the same seed gives the same data.
use amparo_domain::policy::Role;
use amparo_domain::records::{
    Allegation, CarePlan, Child, Ctx, Facility, Household, Operation, Person, Placement, Record,
    Relationship, Site, Task, WelfareCheck,
};
use amparo_store::{Actor, NewUser, Store, StoredRecord};
use serde_json::{json, Value};
use uuid::Uuid;

pub const AGENCY: &str = "Demo child protection agency";
pub const OPERATION_NAME: &str = "Operación Oratorio (demo)";
pub const CHILDREN: usize = 160;
pub const FAMILIES: usize = 50;

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// (English/Yiddish romanisation, Spanish rendering, Hebrew script)
const FAMILY_NAMES: [(&str, &str, &str); 50] = [
    ("Weingarten", "Vaingarten", "ווינגארטן"),
    ("Rosenberg", "Rosemberg", "רוזנברג"),
    ("Friedman", "Fridman", "פרידמן"),
    ("Goldstein", "Goldstein", "גולדשטיין"),
    ("Klein", "Klain", "קליין"),
    ("Schwartz", "Shvartz", "שווארץ"),
    ("Teitelbaum", "Teitelbaum", "טייטלבוים"),
    ("Halberstam", "Jalberstam", "הלברשטאם"),
    ("Rubin", "Rubín", "רובין"),
    ("Grunwald", "Grunvald", "גרונוואלד"),
    ("Lieberman", "Liberman", "ליברמן"),
    ("Kaufman", "Kaufman", "קויפמאן"),
    ("Stern", "Stern", "שטערן"),
    ("Hirsch", "Jirsch", "הירש"),
    ("Feldman", "Feldman", "פעלדמאן"),
    ("Berkowitz", "Berkovich", "בערקאוויץ"),
    ("Rothman", "Rotman", "ראטמאן"),
    ("Silberman", "Zilberman", "זילבערמאן"),
    ("Eisenberg", "Aisemberg", "אייזנבערג"),
    ("Herskovits", "Jerskovitz", "הערשקאוויטש"),
    ("Lowy", "Levi", "לעווי"),
    ("Spitzer", "Shpitzer", "שפיצער"),
    ("Wolf", "Volf", "וואלף"),
    ("Gross", "Gros", "גראס"),
    ("Brach", "Braj", "בראך"),
    ("Deutsch", "Doich", "דייטש"),
    ("Fischer", "Fisher", "פישער"),
    ("Glick", "Glik", "גליק"),
    ("Horowitz", "Jorovitz", "הורוביץ"),
    ("Katz", "Katz", "כ\"ץ"),
    ("Landau", "Landau", "לנדאו"),
    ("Mandel", "Mandel", "מאנדל"),
    ("Neuman", "Noiman", "נוימאן"),
    ("Ostreicher", "Ostraijer", "אסטרייכער"),
    ("Perl", "Perl", "פערל"),
    ("Reich", "Raij", "רייך"),
    ("Sander", "Sánder", "סאנדער"),
    ("Tauber", "Tauber", "טויבער"),
    ("Unger", "Ungar", "אונגער"),
    ("Wasserman", "Vaserman", "וואסערמאן"),
    ("Jungreis", "Yungreis", "יונגרייז"),
    ("Zeller", "Zeler", "צעלער"),
    ("Abramowitz", "Abramovich", "אברמוביץ"),
    ("Blum", "Blum", "בלום"),
    ("Czitrom", "Chitrom", "ציטראם"),
    ("Dicker", "Diker", "דיקער"),
    ("Ehrlich", "Erlij", "ערליך"),
    ("Fuchs", "Fuks", "פוקס"),
    ("Greenfeld", "Grinfeld", "גרינפעלד"),
    ("Heller", "Jeler", "העלער"),
];

/// (romanisation, Spanish rendering, Hebrew script)
const BOYS: [(&str, &str, &str); 20] = [
    ("Yaakov", "Jacobo", "יעקב"),
    ("Moshe", "Moisés", "משה"),
    ("Avraham", "Abraham", "אברהם"),
    ("Yitzchak", "Isaac", "יצחק"),
    ("Shmuel", "Samuel", "שמואל"),
    ("Yosef", "José", "יוסף"),
    ("Chaim", "Jaim", "חיים"),
    ("Mendel", "Mendel", "מענדל"),
    ("Dovid", "David", "דוד"),
    ("Shlomo", "Salomón", "שלמה"),
    ("Menachem", "Menajem", "מנחם"),
    ("Aharon", "Aarón", "אהרן"),
    ("Zalman", "Zalmán", "זלמן"),
    ("Eliezer", "Eliezer", "אליעזר"),
    ("Naftali", "Neftalí", "נפתלי"),
    ("Tzvi", "Tsvi", "צבי"),
    ("Yehuda", "Judá", "יהודה"),
    ("Baruch", "Baruj", "ברוך"),
    ("Pinchas", "Pinjas", "פנחס"),
    ("Yankel", "Yanquel", "יאנקל"),
];

const GIRLS: [(&str, &str, &str); 20] = [
    ("Chana", "Ana", "חנה"),
    ("Sara", "Sara", "שרה"),
    ("Rivka", "Rebeca", "רבקה"),
    ("Rochel", "Raquel", "רחל"),
    ("Leah", "Lea", "לאה"),
    ("Miriam", "Miriam", "מרים"),
    ("Esther", "Ester", "אסתר"),
    ("Devorah", "Débora", "דבורה"),
    ("Malka", "Malka", "מלכה"),
    ("Chaya", "Jaia", "חיה"),
    ("Bracha", "Braja", "ברכה"),
    ("Golda", "Golda", "גאלדא"),
    ("Faiga", "Feiga", "פייגא"),
    ("Perel", "Perla", "פערל"),
    ("Shifra", "Shifra", "שפרה"),
    ("Batsheva", "Betsabé", "בת שבע"),
    ("Yehudis", "Judit", "יהודית"),
    ("Tzirel", "Tsirel", "צירל"),
    ("Raizel", "Reisel", "רייזל"),
    ("Gittel", "Guitel", "גיטל"),
];

fn build<T: Record>(value: Value) -> Result<T, String> {
    let mut rec: T = serde_json::from_value(value).map_err(|e| format!("demo data: {e}"))?;
    rec.prepare(&Ctx {
        today: chrono::Utc::now().date_naive(),
    })
    .map_err(|e| format!("demo data: {e}"))?;
    Ok(rec)
}

async fn create<T: Record>(
    store: &Store,
    actor: &Actor,
    value: Value,
) -> Result<StoredRecord, String> {
    let rec: T = build(value)?;
    store
        .create(actor, rec)
        .await
        .map_err(|e| format!("demo data: {e}"))
}

/// Load the demo operation unless it is there; returns the lines to print.
pub async fn load(store: &Store) -> Result<Vec<String>, String> {
    let agency = store
        .ensure_agency("demo", AGENCY)
        .await
        .map_err(|e| e.to_string())?;
    let actor = Actor {
        username: "demo-loader".into(),
        agency_id: agency.id,
    };
    let mut lines = Vec::new();
    if store
        .user_by_username("caseworker")
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        lines.push("Demo data already loaded.".into());
        lines.extend(login_lines());
        return Ok(lines);
    }
    let ids = load_records(store, &actor).await?;
    load_protection(store, &actor, &ids).await?;
    for (username, role, facilities) in [
        ("caseworker", Role::Caseworker, vec![]),
        ("shelter", Role::ShelterStaff, vec![ids.facilities[0]]),
        ("investigator", Role::Investigator, vec![]),
        ("partner", Role::Partner, vec![]),
    ] {
        let hash =
            amparo_web::auth::hash_password(&demo_password(username)).map_err(|e| e.detail)?;
        store
            .create_user(
                "demo",
                NewUser {
                    username: username.into(),
                    agency_id: agency.id,
                    roles: vec![role],
                    facilities,
                    password_hash: hash,
                    must_change_password: false,
                    language: "es".into(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    lines.push(format!(
        "Demo operation loaded: {} children in {} families, 2 facilities.",
        ids.children, FAMILIES
    ));
    lines.extend(login_lines());
    Ok(lines)
}

fn demo_password(username: &str) -> String {
    format!("demo-{username}-2026")
}

fn login_lines() -> Vec<String> {
    ["caseworker", "shelter", "investigator", "partner"]
        .iter()
        .map(|u| format!("Demo login: {u} / {}", demo_password(u)))
        .collect()
}

pub struct DemoIds {
    pub facilities: Vec<Uuid>,
    pub children: usize,
    pub child_ids: Vec<Uuid>,
    pub operation: Uuid,
    pub adults: Vec<Uuid>,
}

/// Welfare checks at the farm (officials kept out twice), allegations, care plans, tasks.
async fn load_protection(store: &Store, actor: &Actor, ids: &DemoIds) -> Result<(), String> {
    let farm = create::<Site>(
        store,
        actor,
        json!({"operation_id": ids.operation, "name": "La finca (demo)",
               "address": "Invented address: a farm near Oratorio, Santa Rosa"}),
    )
    .await?;
    for (at, outcome, notes) in [
        (
            "2026-08-14T15:00:00Z",
            "obstructed",
            "Officials kept at the gate for two hours; no child seen.",
        ),
        (
            "2026-09-30T14:30:00Z",
            "obstructed",
            "Gate chained; men of the community refused entry.",
        ),
        (
            "2026-11-20T07:00:00Z",
            "concerns",
            "Entered with the protective order; 160 children taken into care.",
        ),
    ] {
        create::<WelfareCheck>(
            store,
            actor,
            json!({"site_id": farm.id, "done_at": at, "visitors": ["PGN (demo)", "Policía Nacional Civil (demo)"],
                   "outcome": outcome, "refused_by": "community leaders (demo)", "notes": notes}),
        )
        .await?;
    }
    for (i, (kind, victim, summary)) in [
        (
            "forced_pregnancy",
            0usize,
            "Pregnant minor; statement taken by the prosecutor (invented).",
        ),
        (
            "physical_abuse",
            5,
            "Marks of beating reported by the child at intake (invented).",
        ),
        (
            "child_marriage",
            20,
            "Recorded as married at 15 (invented).",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let Some(child) = ids.child_ids.get(victim) else {
            continue;
        };
        let perpetrator = ids.adults.get(i).copied();
        create::<Allegation>(
            store,
            actor,
            json!({"kind": kind, "victims": [child], "perpetrators": perpetrator.into_iter().collect::<Vec<_>>(),
                   "reported_by": "Fiscalía de la Mujer (demo)", "reported_at": "2026-11-21T10:00:00Z",
                   "place": "the farm", "status": "under_investigation",
                   "prosecutor_reference": format!("MP-FEM-2026-{:03}", 40 + i),
                   "other_jurisdictions": if i == 0 { json!([{"country": "MX", "agency": "Fiscalía de Chiapas (demo)", "reference": "CHIS-2019-0088"}]) } else { json!([]) },
                   "summary": summary}),
        )
        .await?;
    }
    for child in &ids.child_ids {
        create::<CarePlan>(
            store,
            actor,
            json!({"child_id": child, "religion": "Orthodox Jewish (demo)",
                   "religious_practice": "Shabbat and holidays; prayers in Hebrew; modest dress",
                   "diet": "kosher", "languages": ["yi", "es"], "interpreter_needed": true,
                   "education": "Yiddish-medium primary school before the raid",
                   "contact_arrangements": "Supervised contact only, pending assessment",
                   "placement_goal": "undecided"}),
        )
        .await?;
    }
    let today = chrono::Utc::now().date_naive();
    for (title, due) in [
        (
            "Plan a welfare check of the households in Guatemala City",
            today,
        ),
        (
            "Send intake list to the Canadian agency",
            today - chrono::Duration::days(2),
        ),
    ] {
        create::<Task>(
            store,
            actor,
            json!({"title": title, "assignee": "caseworker", "due": due}),
        )
        .await?;
    }
    Ok(())
}

fn name(given: &str, family: &str, kind: &str, lang: &str) -> Value {
    json!({"given": given, "family": family, "kind": kind, "language": lang})
}

async fn load_records(store: &Store, actor: &Actor) -> Result<DemoIds, String> {
    let mut rng = Rng(0x00A4_9A70_2026);
    let op = create::<Operation>(
        store,
        actor,
        json!({
            "name": OPERATION_NAME,
            "country": "GT",
            "start_date": "2026-11-20",
            "lead_agency": "Procuraduría General de la Nación (demo)",
            "description": "Protective operation after a raid on a farm; 160 children taken into care (invented demo data)."
        }),
    )
    .await?;
    let mut facilities = Vec::new();
    for (fname, cap, level) in [
        ("Hogar Temporal Las Flores (demo)", 110, "high"),
        ("Centro de Acogida San Marcos (demo)", 80, "medium"),
    ] {
        let f = create::<Facility>(
            store,
            actor,
            json!({"operation_id": op.id, "name": fname, "kind": "care_centre",
                   "address": format!("Invented address for {fname}, Santa Rosa, Guatemala"),
                   "capacity": cap, "security_level": level}),
        )
        .await?;
        facilities.push(f.id);
    }
    // Children per family: 160 over 50 families, 2 to 5 each.
    let mut sizes = vec![3usize; FAMILIES];
    for i in 0..(CHILDREN - 3 * FAMILIES) {
        sizes[(i * 7) % FAMILIES] += 1;
    }
    let mut wristband = 0;
    let mut spouses_recorded = 0;
    let mut child_ids = Vec::new();
    let mut adults = Vec::new();
    for (fi, size) in sizes.iter().enumerate() {
        let (fam_en, fam_es, fam_he) = FAMILY_NAMES[fi];
        let country = match fi % 10 {
            0..=5 => "GT",
            6..=8 => "US",
            _ => "CA",
        };
        let father_name = rng.pick(&BOYS);
        let mother_name = rng.pick(&GIRLS);
        let father = create::<Person>(
            store,
            actor,
            json!({"operation_id": op.id, "sex": "male",
                   "names": [name(father_name.0, fam_en, "legal", "yi"), name(father_name.2, fam_he, "alias", "he")],
                   "birth": {"precision": "year", "year": 1975 + rng.below(15) as i32},
                   "country_of_residence": country, "nationalities": [country]}),
        )
        .await?;
        let mother = create::<Person>(
            store,
            actor,
            json!({"operation_id": op.id, "sex": "female",
                   "names": [name(mother_name.0, fam_en, "legal", "yi")],
                   "birth": {"precision": "year", "year": 1978 + rng.below(15) as i32},
                   "country_of_residence": country, "nationalities": [country]}),
        )
        .await?;
        // Every seventh family: a second mother, whose children are half-siblings.
        let second_mother = if fi % 7 == 3 {
            let n = rng.pick(&GIRLS);
            Some(
                create::<Person>(
                    store,
                    actor,
                    json!({"operation_id": op.id, "sex": "female",
                           "names": [name(n.0, fam_en, "legal", "yi")],
                           "birth": {"precision": "estimated_age", "age": 30 + rng.below(8) as u32, "at": "2026-11-20"},
                           "country_of_residence": country}),
                )
                .await?,
            )
        } else {
            None
        };
        adults.push(father.id);
        let mut members = vec![father.id, mother.id];
        if let Some(m) = &second_mother {
            members.push(m.id);
        }
        let mut kids: Vec<(StoredRecord, bool)> = Vec::new();
        let mut year = 2008 + rng.below(4) as i32;
        for k in 0..*size {
            wristband += 1;
            let girl = rng.below(2) == 0;
            let given = if girl {
                rng.pick(&GIRLS)
            } else {
                rng.pick(&BOYS)
            };
            let mut names = vec![name(given.1, fam_es, "as_given", "es")];
            if rng.below(2) == 0 {
                names.push(name(given.0, fam_en, "legal", "yi"));
            }
            if rng.below(3) == 0 {
                names.push(
                    json!({"given": given.2, "family": fam_he, "kind": "alias", "language": "he"}),
                );
            }
            let birth = match rng.below(4) {
                0 | 1 => {
                    json!({"precision": "exact", "date": format!("{year}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28))})
                }
                2 => json!({"precision": "year", "year": year}),
                _ => {
                    json!({"precision": "estimated_age", "age": (2026 - year).max(0), "at": "2026-11-20"})
                }
            };
            let child = create::<Child>(
                store,
                actor,
                json!({"operation_id": op.id, "names": names,
                       "sex": if girl { "female" } else { "male" },
                       "birth": birth, "languages": ["yi", "es"],
                       "nationalities": [if k % 5 == 4 { "US" } else { country }],
                       "wristband": wristband.to_string()}),
            )
            .await?;
            let half = second_mother.is_some() && k >= size / 2;
            let mom = if half {
                second_mother.as_ref().map(|m| m.id).unwrap_or(mother.id)
            } else {
                mother.id
            };
            for (from, kind) in [(father.id, "father"), (mom, "mother")] {
                create::<Relationship>(
                    store,
                    actor,
                    json!({"from": from, "to": child.id, "kind": kind, "verification": "claimed",
                           "source": "intake interview"}),
                )
                .await?;
            }
            for (other, other_half) in &kids {
                let kind = if half != *other_half {
                    "half_sibling"
                } else {
                    "sibling"
                };
                create::<Relationship>(
                    store,
                    actor,
                    json!({"from": other.id, "to": child.id, "kind": kind, "verification": "claimed"}),
                )
                .await?;
            }
            members.push(child.id);
            let facility = facilities[if wristband <= 100 { 0 } else { 1 }];
            create::<Placement>(
                store,
                actor,
                json!({"child_id": child.id, "facility_id": facility,
                       "from": "2026-11-20T22:00:00Z",
                       "legal_basis": {"kind": "protective_order",
                           "issuing_authority": "Juzgado de la Niñez y la Adolescencia de Santa Rosa (demo)",
                           "reference": format!("MP-2026-{:04}", 100 + fi), "date": "2026-11-20"},
                       "authorised_by": "Jueza de turno (demo)",
                       "reason": "Protective custody after the raid"}),
            )
            .await?;
            child_ids.push(child.id);
            kids.push((child, half));
            year += 1 + rng.below(2) as i32;
        }
        // Two eldest children recorded as married to an adult of another family.
        if spouses_recorded < 2 && fi % 20 == 5 {
            if let Some((eldest, _)) = kids.first() {
                let husband_name = rng.pick(&BOYS);
                let (other_fam, _, _) = FAMILY_NAMES[(fi + 11) % FAMILIES];
                let husband = create::<Person>(
                    store,
                    actor,
                    json!({"operation_id": op.id, "sex": "male",
                           "names": [name(husband_name.0, other_fam, "legal", "yi")],
                           "birth": {"precision": "year", "year": 1996},
                           "country_of_residence": "GT"}),
                )
                .await?;
                create::<Relationship>(
                    store,
                    actor,
                    json!({"from": husband.id, "to": eldest.id, "kind": "spouse",
                           "verification": "claimed", "source": "statement at intake"}),
                )
                .await?;
                spouses_recorded += 1;
            }
        }
        create::<Household>(
            store,
            actor,
            json!({"operation_id": op.id, "label": format!("{fam_en} family"),
                   "members": members, "countries": [country],
                   "address": format!("Invented address of the {fam_en} household")}),
        )
        .await?;
    }
    Ok(DemoIds {
        facilities,
        children: wristband,
        child_ids,
        operation: op.id,
        adults,
    })
}
