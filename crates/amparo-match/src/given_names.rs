//! Equivalent given names across English, Spanish, Hebrew and Yiddish, written
//! for this project from common usage (not scraped). One group per line; the
//! first form names the group. Hebrew-script forms are matched as written.
use std::collections::HashMap;
use std::sync::OnceLock;

const GROUPS: &str = "\
jacob jacobo jakob jaakov yaakov yaacov yakov yaakow yankel yankev yanquel iacob jacques יעקב
isaac isaak yitzchak yitzhak yitschak itzik itzhak izaak יצחק
abraham avraham avrohom avrum abram אברהם
moses moises moshe moishe moyshe moise משה
joseph jose yosef yossel yosl yoseph giuseppe יוסף
samuel shmuel shmiel zanvil שמואל
david dovid dudi דוד
solomon salomon shlomo shloime zalman שלמה
aaron aron aharon ahron arn אהרן
judah juda yehuda yehudah yidel leib יהודה
chaim haim jaim hyman hayim חיים
menachem menajem mendel menahem מנחם
naphtali naftali neftali hertz נפתלי
baruch baruj bendit benedict ברוך
pinchas pinjas phineas pinkas פנחס
zvi tzvi tsvi hirsch hirsh hersh hershel צבי
eliezer eleazar lazar lazer אליעזר
benjamin binyamin benyamin bunem בנימין
mordechai mordejai mordecai motel motty מרדכי
hannah hanna ana anna chana chanah hana anita chanie חנה
sarah sara sura soro surie שרה
rebecca rebeca rebekah rivka rivkah rifka riva רבקה
rachel raquel rochel ruchel rahel רחל
leah lea leia laya לאה
miriam mirjam miryam maria mary marie מרים
esther ester estera eshter אסתר
deborah debora devorah dvora dvoyre דבורה
chaya jaia haya chaja חיה
bracha braja beracha brocha ברכה
judith judit yehudis yehudit יהודית
bathsheba betsabe batsheva
golda golde goldie גאלדא
perel perla pearl perl פערל
shifra shifrah sifra שפרה
malka malca malke מלכה
faiga feiga feige fayge פייגא
gittel guitel gitel gitl גיטל
raizel reisel raisel reizl רייזל
tzirel tsirel cirel צירל
william will bill billy willie willy wm guillermo guillaume
edward ed eddie ned ted teddy eduardo edouard
henry harry hank enrique henri hendrik heinrich
thomas tom tommy tomas thom
robert bob bobby rob robbie roberto
richard dick rick ricky ricardo
charles charlie chas chuck carlos
james jim jimmy jamie jaime
john jack johnny jon juan johann jean
frederick fred freddie freddy federico
leonard len lenny lennie leonardo
joshua josh josue
alexander alex sandy alejandro alexandre sasha
margaret maggie meg peggy margarita marguerite
elizabeth liz lizzie beth betty bessie eliza elisabeth isabel isabella
catherine katherine kate katie kitty catalina catarina
francis frank francisco paco francois
anthony tony antonio antoine
michael mike mick miguel michel
peter pete pedro pierre
george jorge georges
philip phil felipe philippe
patrick pat paddy patricio
daniel dan danny
nicholas nick nicolas nicola
andrew andy andres andre
stephen steven steve esteban etienne
christopher chris cristobal
matthew matt mateo mathieu matias
lawrence laurence larry lorenzo laurent
louis lewis lou luis luigi
margery marjorie
dorothy dolly dot dora
ellen helen nell nellie elena helena
susan sue susie susana suzanne
";

fn index() -> &'static HashMap<String, usize> {
    static INDEX: OnceLock<HashMap<String, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HashMap::new();
        for (i, line) in GROUPS.lines().enumerate() {
            for form in line.split(' ').filter(|f| !f.is_empty()) {
                let key = if form.chars().any(|c| c.is_ascii()) {
                    crate::fold(form)
                } else {
                    form.to_string()
                };
                map.entry(key).or_insert(i);
            }
        }
        map
    })
}

/// The equivalence group of a given name, if it is in the table.
pub fn group_of(name: &str) -> Option<usize> {
    let t = name.trim();
    index()
        .get(t)
        .or_else(|| index().get(&crate::fold(t)))
        .copied()
}
