//! Equivalent given names across English, Spanish, Hebrew and Yiddish, written
//! for this project from common usage (not scraped): translations of a name and the
//! short forms people are called by (Harry for Henry, Paco for Francisco, Lupe for
//! Guadalupe), which records taken by different people mix. One group per line; the
//! first form names the group, and a line's number is its search key (`#12`), so new
//! groups go at the end. A short form of several names is on each of their lines.
//! Hebrew-script forms are matched as written.
use std::collections::HashMap;
use std::sync::OnceLock;

const GROUPS: &str = "\
jacob jacobo jakob jaakov yaakov yaacov yakov yaakow yankel yankev yanquel iacob jacques יעקב jake jakey
isaac isaak yitzchak yitzhak yitschak itzik itzhak izaak יצחק ike ikey
abraham avraham avrohom avrum abram אברהם abe abie
moses moises moshe moishe moyshe moise משה moe
joseph jose yosef yossel yosl yoseph giuseppe יוסף joe joey jos josef pepe pepito chepe chema
samuel shmuel shmiel zanvil שמואל sam sammy
david dovid dudi דוד dave davy davie
solomon salomon shlomo shloime zalman שלמה sol solly
aaron aron aharon ahron arn אהרן
judah juda yehuda yehudah yidel leib יהודה
chaim haim jaim hyman hayim חיים
menachem menajem mendel menahem מנחם
naphtali naftali neftali hertz נפתלי
baruch baruj bendit benedict ברוך
pinchas pinjas phineas pinkas פנחס
zvi tzvi tsvi hirsch hirsh hersh hershel צבי
eliezer eleazar lazar lazer אליעזר
benjamin binyamin benyamin bunem בנימין ben benny benji
mordechai mordejai mordecai motel motty מרדכי
hannah hanna ana anna chana chanah hana anita chanie חנה ann anne annie nan nancy nanette annette
sarah sara sura soro surie שרה sally sadie sarita
rebecca rebeca rebekah rivka rivkah rifka riva רבקה becky becki beckie becca reba
rachel raquel rochel ruchel rahel רחל
leah lea leia laya לאה
miriam mirjam miryam maria mary marie מרים polly molly mamie mimi maruja mari may mae
esther ester estera eshter אסתר hetty hettie essie
deborah debora devorah dvora dvoyre דבורה debbie debby deb
chaya jaia haya chaja חיה
bracha braja beracha brocha ברכה
judith judit yehudis yehudit יהודית judy judi
bathsheba betsabe batsheva
golda golde goldie גאלדא
perel perla pearl perl פערל
shifra shifrah sifra שפרה
malka malca malke מלכה
faiga feiga feige fayge פייגא
gittel guitel gitel gitl גיטל
raizel reisel raisel reizl רייזל
tzirel tsirel cirel צירל
william will bill billy willie willy wm guillermo guillaume wil liam billie wilhelm memo gwilym
edward ed eddie ned ted teddy eduardo edouard eddy neddy lalo
henry harry hank enrique henri hendrik heinrich hal quique kike
thomas tom tommy tomas thom tam
robert bob bobby rob robbie roberto robin bert bertie beto rupert
richard dick rick ricky ricardo dickie rich richie dickon
charles charlie chas chuck carlos charley charly carl karl
james jim jimmy jamie jaime jem jas
john jack johnny jon juan johann jean jonny johnnie jno juanito juancho ian iain sean shane eoin evan ivan
frederick fred freddie freddy federico fredrick frederic fritz fede kiko
leonard len lenny lennie leonardo leo
joshua josh josue
alexander alex sandy alejandro alexandre sasha alec alick sandro xander
margaret maggie meg peggy margarita marguerite madge maisie greta gretchen daisy may mae
elizabeth liz lizzie beth betty bessie eliza elisabeth isabel isabella lizzy bess betsy betsey elsie lisa libby chabela isa
catherine katherine kate katie kitty catalina catarina kathryn katharine kathleen cathy kathy kit kay caterina
francis frank francisco paco francois frankie francesco franz pancho curro kiko
anthony tony antonio antoine antony anton tono
michael mike mick miguel michel mickey micky mikey
peter pete pedro pierre piet perico
george jorge georges georgie geordie georg
philip phil felipe philippe phillip pip
patrick pat paddy patricio pato
daniel dan danny
nicholas nick nicolas nicola nicky
andrew andy andres andre drew andreas
stephen steven steve esteban etienne stevie stefan
christopher chris cristobal kit christy
matthew matt mateo mathieu matias matty mat
lawrence laurence larry lorenzo laurent laurie lencho
louis lewis lou luis luigi ludwig lucho
margery marjorie
dorothy dolly dot dora dottie dorothea
ellen helen nell nellie elena helena nelly ellie lena
susan sue susie susana suzanne suzy susanna susannah
albert al bert bertie alberto beto albrecht
alfred alf alfie fred freddie alfredo
herbert herb bert bertie heriberto beto herbie
gilbert gil bert gilberto beto
hubert bert humberto beto
arthur art artie arturo
edmund ed eddie ned ted edmond edmundo
edwin ed eddie
walter walt wally wat
harold hal harry
hugh hughie hugo
ralph rafe raul
roger rogelio
geoffrey jeffrey geoff jeff
gerald gerry jerry gerardo lalo
jerome jerry jeronimo
jeremiah jerry jem jeremias
jane janie jenny jennie jean jeanie jeannie juana juanita joan joanna johanna jo
janet jenny jessie
martha marta mattie matty patty
matilda tilly tillie maud maude mattie matilde
harriet hattie hatty hetty henrietta etta enriqueta
eleanor elinor nell nellie nora norah ellie leonor
emily emmy emmie milly millie em emilia emilie
emma em emmy
amelia milly millie amalia
mildred milly millie
millicent milly millie
caroline carrie carol carolina
charlotte lottie lotty carlota
christina christine chris chrissie tina kirsty cristina
clara clare claire
constance connie constanza
cecilia cicely cissy cissie celia
frances fanny fran frankie francisca paquita paca pancha
grace gracie engracia
josephine jo josie josefina pepita josefa pepa
julia julie juliet julieta
louisa louise lou lulu luisa
lucy lucie lucia
mabel mab amabel
sophia sophie sofia
theodore ted teddy theo teodoro
victoria vicky vic
vincent vince vicente chente
virginia ginny
winifred winnie freda
abigail abby nabby
agnes aggie nessie ines
alice allie alicia
augustus gus gussie augusto
augustine austin gus agustin
bartholomew bart barty bartolome
dominic dom domingo
ezekiel zeke ezequiel
gregory greg gregorio goyo
jonathan jon jonny jonatan
kenneth ken kenny
mark marc marcus marcos
martin marty
nathaniel nat nate natty
nathan nate nat natan
oliver ollie noll olivier
reginald reg reggie
ronald ron ronnie
simon sim simeon
timothy tim timmy
tobias toby
zachary zachariah zach zack zacarias
bernard bernie barney bernardo
clement clem clemente
ernest ernie ernesto
eugene gene eugenio
ignatius ignacio nacho
jesus chucho chuy
manuel emmanuel emanuel manolo manny
guadalupe lupe lupita
concepcion concha conchita
consuelo chelo
rosario charo chayo
dolores lola lolita
pilar pili
teresa theresa tere teresita tessa tess tessie
patricia paty patty pat tricia trish
beatriz beatrice bea trixie
fernando ferdinand nando fer
hernando nando
rodolfo rudolph rudolf rudy fito
adolfo adolph fito
salvador chava chavo
alfonso alphonse poncho
rafael raphael rafa
javier xavier javi
sebastian sebas
maurice mauricio morris mau
sergio checo
maximilian maximiliano max maxi
ximena jimena
graciela chela
marcela chela
alexandra alejandra sandra sandy alex
adelaide addie adela adelina
archibald archie
edgar ed eddie ned edgardo
";

fn index() -> &'static HashMap<String, Vec<usize>> {
    static INDEX: OnceLock<HashMap<String, Vec<usize>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, line) in GROUPS.lines().enumerate() {
            for form in line.split(' ').filter(|f| !f.is_empty()) {
                let key = if form.chars().any(|c| c.is_ascii()) {
                    crate::fold(form)
                } else {
                    form.to_string()
                };
                let groups = map.entry(key).or_default();
                if !groups.contains(&i) {
                    groups.push(i);
                }
            }
        }
        map
    })
}

/// The equivalence groups of a given name, empty if it is in none. Most names are
/// in one; a short form can be in several ("Bert": Albert, Herbert, Robert...).
pub fn groups_of(name: &str) -> &'static [usize] {
    let t = name.trim();
    index()
        .get(t)
        .or_else(|| index().get(&crate::fold(t)))
        .map_or(&[], Vec::as_slice)
}

/// Whether two given names share an equivalence group.
pub fn same_group(a: &[usize], b: &[usize]) -> bool {
    a.iter().any(|g| b.contains(g))
}
