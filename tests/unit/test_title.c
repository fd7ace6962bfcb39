/*  Unit tests for the title module: parsing of realistic Spotify and file
    titles, folder scanning, and the compatibility table. */
#include <criterion/criterion.h>
#include <string.h>

#include "soulpipe/title.h"

#define R  SP_TITLE_REMASTER
#define L  SP_TITLE_LIVE
#define RX SP_TITLE_REMIX
#define X  SP_TITLE_EXTENDED
#define E  SP_TITLE_EDIT
#define AV SP_TITLE_ALBUM_VERSION
#define AC SP_TITLE_ACOUSTIC
#define IN SP_TITLE_INSTRUMENTAL
#define D  SP_TITLE_DEMO
#define MO SP_TITLE_MONO
#define ST SP_TITLE_STEREO
#define P  SP_TITLE_PART
#define F  SP_TITLE_FEAT
#define RR SP_TITLE_REREC
#define K  SP_TITLE_KARAOKE
#define C  SP_TITLE_COVER
#define SU SP_TITLE_SPED_UP
#define SL SP_TITLE_SLOWED
#define NC SP_TITLE_NIGHTCORE
#define UP SP_TITLE_UNPLUGGED
#define AP SP_TITLE_ACAPPELLA
#define CL SP_TITLE_CLEAN
#define EX SP_TITLE_EXPLICIT
#define OV SP_TITLE_OTHER_VERSION
#define ED SP_TITLE_EDITION

typedef struct {
    const char *title;
    const char *base;  //  expected matching-form base
    uint32_t kinds;    //  expected kinds, exactly
    int year;
    int part;
    const char *detail;  //  remixer, version or feat (by kind), or NULL
} case_t;

static const case_t s_cases[] = {
    //  Remasters (Spotify style and file style)
    {"Bohemian Rhapsody - Remastered 2011", "bohemian rhapsody", R, 2011, 0, NULL},
    {"Heroes - 2017 Remaster", "heroes", R, 2017, 0, NULL},
    {"Wish You Were Here - 2011 Remastered Version", "wish you were here", R, 2011, 0, NULL},
    {"Paint It, Black (2002 Remaster)", "paint it black", R, 2002, 0, NULL},
    {"Hey Jude [Remastered]", "hey jude", R, 0, 0, NULL},
    {"Here Comes The Sun - Remastered 2009", "here comes the sun", R, 2009, 0, NULL},
    {"Layla - 40th Anniversary Edition", "layla", ED, 0, 0, NULL},
    {"Let It Be - Digital Remaster", "let it be", R, 0, 0, NULL},
    {"Live Forever - Remastered", "live forever", R, 0, 0, NULL},
    //  Live
    {"Song 2 - Live", "song 2", L, 0, 0, NULL},
    {"Bohemian Rhapsody (Live at Wembley Stadium)", "bohemian rhapsody", L, 0, 0, NULL},
    {"Hotel California - Live Version", "hotel california", L, 0, 0, NULL},
    {"Creep (Live from Glastonbury 1997)", "creep", L, 1997, 0, NULL},
    {"Roxanne - Live In Paris / 1979", "roxanne", L, 1979, 0, NULL},
    {"Hallelujah - Live at Sin-é, New York, NY - July 17, 1994", "hallelujah", L, 1994, 0, NULL},
    {"Yellow [Live]", "yellow", L, 0, 0, NULL},
    {"Alive", "alive", 0, 0, 0, NULL},
    {"Love Live", "love live", 0, 0, 0, NULL},
    {"Live and Let Die", "live and let die", 0, 0, 0, NULL},
    {"Come as You Are (MTV Unplugged)", "come as you are", UP, 0, 0, NULL},
    {"About A Girl - Live On MTV Unplugged, 1993 / Unedited", "about a girl", L | UP, 1993, 0,
     NULL},
    //  Remixes, mixes, edits
    {"Levels - Radio Edit", "levels", E, 0, 0, NULL},
    {"Titanium (feat. Sia) - Radio Edit", "titanium", F | E, 0, 0, "Sia"},
    {"Adagio for Strings (Extended Mix)", "adagio for strings", X, 0, 0, NULL},
    {"Silence (Tiësto Remix)", "silence", RX, 0, 0, "tiesto"},
    {"Silence [Tiesto's In Search Of Sunrise Remix]", "silence", RX, 0, 0,
     "tiestos in search of sunrise"},
    {"Strobe - Club Edit", "strobe", RX, 0, 0, ""},
    {"Show Me Love - Single Version", "show me love", E, 0, 0, NULL},
    {"Never Gonna Give You Up - Album Version", "never gonna give you up", AV, 0, 0, NULL},
    {"Opus (Original Mix)", "opus", AV, 0, 0, NULL},
    {"Blue (Da Ba Dee) - Gabry Ponte Ice Pop Mix", "blue da ba dee", RX, 0, 0,
     "gabry ponte ice pop"},
    {"One More Time (Radio Edit)", "one more time", E, 0, 0, NULL},
    {"Children (Dream Version)", "children", OV, 0, 0, "dream"},
    {"Sandstorm - Radio Mix", "sandstorm", E, 0, 0, NULL},
    {"Animals (Martin Garrix Extended Remix)", "animals", RX | X, 0, 0, "martin garrix"},
    {"Mix Tape", "mix tape", 0, 0, 0, NULL},
    {"Remix to Ignition", "remix to ignition", 0, 0, 0, NULL},
    {"In the End (Remix by Mike Shinoda)", "in the end", RX, 0, 0, "mike shinoda"},
    //  Acoustic, instrumental, demo, a cappella
    {"Wonderwall - Acoustic", "wonderwall", AC, 0, 0, NULL},
    {"Use Somebody (Acoustic Version)", "use somebody", AC, 0, 0, NULL},
    {"Lose Yourself (Instrumental)", "lose yourself", IN, 0, 0, NULL},
    {"Clocks [Instrumental Version]", "clocks", IN, 0, 0, NULL},
    {"Yesterday - Demo", "yesterday", D, 0, 0, NULL},
    {"Smells Like Teen Spirit (Butch Vig Demo / 1991)", "smells like teen spirit", D, 1991, 0,
     NULL},
    {"Crazy in Love (A Cappella)", "crazy in love", AP, 0, 0, NULL},
    {"Toxic [Acapella]", "toxic", AP, 0, 0, NULL},
    {"Stay (Stripped)", "stay", AC, 0, 0, NULL},
    //  Mono / stereo, clean / explicit
    {"Penny Lane - Mono", "penny lane", MO, 0, 0, NULL},
    {"Good Vibrations (Stereo Mix)", "good vibrations", ST | RX, 0, 0, "stereo"},
    {"Strawberry Fields Forever - Remastered 2009 / Stereo", "strawberry fields forever", R | ST,
     2009, 0, NULL},
    {"HUMBLE. (Clean)", "humble", CL, 0, 0, NULL},
    {"Lose Yourself - Explicit Version", "lose yourself", EX, 0, 0, NULL},
    //  Parts
    {"Another Brick in the Wall, Pt. 2", "another brick in the wall part 2", P, 0, 2, NULL},
    {"Another Brick in the Wall (Part II)", "another brick in the wall part 2", P, 0, 2, NULL},
    {"Another Brick in the Wall - Part 2", "another brick in the wall part 2", P, 0, 2, NULL},
    {"Shine On You Crazy Diamond (Pts. 1-5)", "shine on you crazy diamond part 1 5", P, 0, 1, NULL},
    {"Tubular Bells, Pt. I - Live", "tubular bells part 1", P | L, 0, 1, NULL},
    {"The Reaper, Part Two", "the reaper part 2", P, 0, 2, NULL},
    {"Partition", "partition", 0, 0, 0, NULL},
    //  Featured artists
    {"Empire State of Mind (feat. Alicia Keys)", "empire state of mind", F, 0, 0, "Alicia Keys"},
    {"Stay With Me (with Justin Timberlake & Halsey)", "stay with me", F, 0, 0,
     "Justin Timberlake & Halsey"},
    {"Señorita ft. Camila Cabello", "senorita", F, 0, 0, "Camila Cabello"},
    {"Old Town Road (feat. Billy Ray Cyrus) - Remix", "old town road", F | RX, 0, 0,
     "Billy Ray Cyrus"},
    //  Re-recordings
    {"Love Story (Taylor's Version)", "love story", RR, 0, 0, NULL},
    {"All Too Well (10 Minute Version) (Taylor's Version) (From The Vault)", "all too well",
     OV | RR | ED, 0, 0, NULL},
    {"Toxic - 2023 Version", "toxic", RR, 2023, 0, NULL},
    {"Sweet Child O' Mine (Re-Recorded)", "sweet child o mine", RR, 0, 0, NULL},
    //  Karaoke, covers
    {"Rolling in the Deep (Karaoke Version)", "rolling in the deep", K, 0, 0, NULL},
    {"Hello (In the Style of Adele) [Karaoke Version]", "hello", K, 0, 0, NULL},
    {"Someone Like You (Originally Performed by Adele)", "someone like you", C, 0, 0, NULL},
    {"Hurt - Cover", "hurt", C, 0, 0, NULL},
    //  Speed and nightcore
    {"Cupid - Sped Up Version", "cupid", SU, 0, 0, NULL},
    {"Snowfall (Slowed + Reverb)", "snowfall", SL, 0, 0, NULL},
    {"Rockefeller Street (Nightcore)", "rockefeller street", NC, 0, 0, NULL},
    {"Another Love - Speed Up", "another love", SU, 0, 0, NULL},
    //  Other versions and editions
    {"Despacito - Spanish Version", "despacito", OV, 0, 0, "spanish"},
    {"Let It Go - From \"Frozen\"/Soundtrack Version", "let it go", ED, 0, 0, NULL},
    {"Danger Zone (From \"Top Gun\" Original Soundtrack)", "danger zone", ED, 0, 0, NULL},
    {"Yellow - Bonus Track", "yellow", ED, 0, 0, NULL},
    //  Brackets that are part of the title
    {"(I Can't Get No) Satisfaction", "i cant get no satisfaction", 0, 0, 0, NULL},
    {"(Don't Fear) The Reaper", "dont fear the reaper", 0, 0, 0, NULL},
    {"Blue (Da Ba Dee)", "blue da ba dee", 0, 0, 0, NULL},
    {"Hotel California - 2013 Remaster - Live", "hotel california", R | L, 2013, 0, NULL},
    {"A Day in the Life - Take 1", "a day in the life take 1", 0, 0, 0, NULL},
    //  Non-Latin titles
    {"Группа крови (Live)", "группа крови", L, 0, 0, NULL},
    {"夜に駆ける - Acoustic Ver.", "夜に駆ける", AC, 0, 0, NULL},
    //  Degenerate
    {"(Live)", "live", L, 0, 0, NULL},
    {"", "", 0, 0, 0, NULL},
};

static const char *
s_kinds_str (uint32_t k, char *buf, size_t n)
{
    buf[0] = 0;
    for (int b = 0; b < 25; b++)
        if (k & (1u << b)) {
            strncat (buf, sp_title_kind_name (1u << b), n - strlen (buf) - 1);
            strncat (buf, ",", n - strlen (buf) - 1);
        }
    return buf;
}

Test (title, parse_table)
{
    size_t count = sizeof s_cases / sizeof s_cases[0];
    cr_assert_geq (count, 60);
    for (size_t i = 0; i < count; i++) {
        const case_t *c = &s_cases[i];
        sp_title_t t;
        cr_assert_eq (sp_title_parse (c->title, &t), 0, "parse(%s)", c->title);
        char got[256], want[256];
        cr_expect_str_eq (t.base, c->base, "base of \"%s\"", c->title);
        cr_expect_eq (t.kinds, c->kinds, "kinds of \"%s\": got %s want %s", c->title,
                      s_kinds_str (t.kinds, got, sizeof got),
                      s_kinds_str (c->kinds, want, sizeof want));
        cr_expect_eq (t.year, c->year, "year of \"%s\": %d", c->title, t.year);
        cr_expect_eq (t.part, c->part, "part of \"%s\": %d", c->title, t.part);
        if (c->detail) {
            const char *d = (c->kinds & F) ? t.feat : (c->kinds & RX) ? t.remixer : t.version;
            cr_expect_str_eq (d, c->detail, "detail of \"%s\"", c->title);
        }
    }
}

Test (title, parse_raw_base_and_errors)
{
    sp_title_t t;
    cr_assert_eq (sp_title_parse ("Silence (Tiësto Remix) [feat. Sarah]", &t), 0);
    cr_expect_str_eq (t.base_raw, "Silence");
    cr_expect_str_eq (t.feat, "Sarah");
    cr_assert_eq (sp_title_parse ("Another Brick in the Wall, Pt. 2 - Remastered", &t), 0);
    cr_expect_str_eq (t.base_raw, "Another Brick in the Wall, Pt. 2");
    cr_assert_eq (sp_title_parse ("Intro (Pt. 3) [Live / Remastered]", &t), 0);
    cr_expect_str_eq (t.base_raw, "Intro (Pt. 3)");
    cr_assert_eq (sp_title_parse ("Song (Pt. 3 / Live)", &t), 0);
    cr_expect_str_eq (t.base, "song part 3");
    cr_expect_str_eq (t.base_raw, "Song Part 3");

    cr_expect_eq (sp_title_parse (NULL, &t), -1);
    cr_expect_eq (sp_title_parse ("x", NULL), -1);
    cr_expect_eq (sp_title_parse ("bad \xff utf8 (Live)", &t), -1);
    cr_expect_eq (t.kinds, 0u);
    cr_expect_str_eq (t.base, "");

    //  Very long title: cut, never overflow
    char big[5000];
    memset (big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy (big + 4000, " - Live", 8);
    cr_assert_eq (sp_title_parse (big, &t), 0);
    cr_expect_eq (t.kinds, L);
    cr_expect_lt (strlen (t.base), SP_TITLE_TEXT_MAX);
    //  Unbalanced brackets are plain text
    cr_assert_eq (sp_title_parse ("Song (Live", &t), 0);
    cr_expect_eq (t.kinds, 0u);
    cr_expect_str_eq (t.base, "song live");
}

typedef struct {
    const char *text;
    uint32_t kinds;
} scan_t;

Test (title, scan_descriptors)
{
    static const scan_t cases[] = {
        {"MTV Unplugged in New York", UP},
        {"Live at Budokan", L},
        {"Nirvana - 1994 - MTV Unplugged In New York [FLAC]", UP},
        {"Queen - Live At Wembley '86", L},
        {"Oasis - (What's The Story) Morning Glory", 0},
        {"Oasis - Live Forever (Single)", E},
        {"Alive", 0},
        {"Love Live! School Idol Project", 0},
        {"Daft Punk - Alive 2007", 0},
        {"Greatest Karaoke Hits Vol. 3", K},
        {"Hip Hop Instrumentals 2010", IN},
        {"Instrumental Asylum", 0},  //  album name, singular
        {"The Remixes", RX},
        {"Remixed & Remastered", RX | R},
        {"Acoustic Covers", C},
        {"A Tribute to Queen", C},
        {"Pop Hits (In the Style of Adele)", K},
        {"Nightcore Collection", NC},
        {"Sped Up Songs 2023", SU},
        {"Hits (A Cappella)", AP},
        {"Pink Floyd - The Wall (2011 Remastered)", R},
        {"Jay-Z - The Black Album Acapellas", AP},
        {"Mix Tape", 0},
        {"Artist - Album (Live)", L},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[256], want[256];
        uint32_t k = sp_title_scan_descriptors (cases[i].text);
        cr_expect_eq (k, cases[i].kinds, "scan(\"%s\"): got %s want %s", cases[i].text,
                      s_kinds_str (k, got, sizeof got),
                      s_kinds_str (cases[i].kinds, want, sizeof want));
    }
    cr_expect_eq (sp_title_scan_descriptors (NULL), 0u);
    cr_expect_eq (sp_title_scan_descriptors ("Live at \xff"), 0u);
}

typedef struct {
    const char *wanted;
    const char *found;
    const char *folder;  //  extra context scanned into found, or NULL
    int ok;
    const char *reason;  //  expected reason (substring), or NULL
} compat_t;

Test (title, compatible_table)
{
    static const compat_t cases[] = {
        //  Neutral descriptors
        {"Heroes - 2017 Remaster", "Heroes", NULL, 1, ""},
        {"Heroes", "Heroes (Remastered 1999)", NULL, 1, ""},
        {"Penny Lane - Mono", "Penny Lane (Stereo)", NULL, 1, ""},
        {"HUMBLE.", "HUMBLE. (Clean)", NULL, 1, ""},
        {"Titanium (feat. Sia)", "Titanium", NULL, 1, ""},
        {"Layla", "Layla - Album Version", NULL, 1, ""},
        {"Opus", "Opus (Original Mix)", NULL, 1, ""},
        //  Soft: edit
        {"Levels - Radio Edit", "Levels", NULL, 1, "length filter"},
        {"Levels", "Levels (Radio Edit)", NULL, 1, "length filter"},
        //  Hard: live
        {"Creep", "Creep (Live)", NULL, 0, "live version"},
        {"Creep - Live", "Creep", NULL, 0, "not the live version asked for"},
        {"Creep - Live", "Creep (Live at Reading)", NULL, 1, ""},
        {"Creep", "Creep", "Radiohead - Live at Glastonbury 1997", 0, "live version"},
        {"Creep - Live", "Creep", "Radiohead - Live at Glastonbury 1997", 1, ""},
        {"Come as You Are (MTV Unplugged)", "Come as You Are", "MTV Unplugged in New York", 1, ""},
        {"Come as You Are", "Come as You Are", "MTV Unplugged in New York", 0, "unplugged version"},
        {"Live Forever", "Live Forever", "Oasis - Definitely Maybe", 1, ""},
        //  Remixes
        {"Silence", "Silence (Tiësto Remix)", NULL, 0, "remix"},
        {"Silence (Tiësto Remix)", "Silence", NULL, 0, "not the remix asked for"},
        {"Silence (Tiësto Remix)", "Silence (Tiesto Remix)", NULL, 1, ""},
        {"Silence (Tiësto Remix)", "Silence (Hardwell Remix)", NULL, 0,
         "different remix (hardwell, not tiesto)"},
        {"Animals", "Animals (Extended Mix)", NULL, 0, "extended version"},
        {"Animals (Extended Mix)", "Animals (Extended Mix)", NULL, 1, ""},
        {"Song", "Song", "Artist - The Remixes", 0, "remix"},
        //  Other hard kinds
        {"Wonderwall", "Wonderwall (Acoustic)", NULL, 0, "acoustic version"},
        {"Lose Yourself", "Lose Yourself (Instrumental)", NULL, 0, "instrumental"},
        {"Yesterday - Demo", "Yesterday", NULL, 0, "not the demo asked for"},
        {"Hello", "Hello (Karaoke Version)", NULL, 0, "karaoke version"},
        {"Hello (Karaoke Version)", "Hello", "Karaoke Instrumentals", 1, ""},
        {"Hurt", "Hurt", "A Tribute to Nine Inch Nails", 0, "cover"},
        {"Cupid", "Cupid (Sped Up)", NULL, 0, "sped up version"},
        {"Snowfall", "Snowfall - Slowed", NULL, 0, "slowed/reverb version"},
        {"Rockefeller Street", "Rockefeller Street (Nightcore)", NULL, 0, "nightcore version"},
        {"Love Story (Taylor's Version)", "Love Story", NULL, 0, "not the re-recording asked for"},
        {"Love Story", "Love Story (Taylor's Version)", NULL, 0, "re-recording"},
        {"Crazy in Love", "Crazy in Love (Acapella)", NULL, 0, "a cappella version"},
        {"Despacito - Spanish Version", "Despacito (English Version)", NULL, 0,
         "different version (english, not spanish)"},
        {"Despacito", "Despacito (Spanish Version)", NULL, 0, "other version"},
        //  Parts
        {"Another Brick in the Wall, Pt. 2", "Another Brick in the Wall (Part II)", NULL, 1, ""},
        {"Another Brick in the Wall, Pt. 2", "Another Brick in the Wall, Pt. 1", NULL, 0,
         "part 1, not part 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const compat_t *c = &cases[i];
        sp_title_t w, f;
        cr_assert_eq (sp_title_parse (c->wanted, &w), 0);
        cr_assert_eq (sp_title_parse (c->found, &f), 0);
        if (c->folder)
            f.kinds |= sp_title_scan_descriptors (c->folder);
        char reason[128] = "junk";
        int rc = sp_title_compatible (&w, &f, reason, sizeof reason);
        cr_expect_eq (rc, c->ok, "compatible(\"%s\", \"%s\" in \"%s\") = %d (%s)", c->wanted,
                      c->found, c->folder ? c->folder : "", rc, reason);
        if (c->reason && c->reason[0])
            cr_expect_not_null (strstr (reason, c->reason), "reason for (\"%s\", \"%s\"): \"%s\"",
                                c->wanted, c->found, reason);
        else if (c->reason)
            cr_expect_str_eq (reason, "", "reason for (\"%s\", \"%s\")", c->wanted, c->found);
    }
}

Test (title, compatible_args)
{
    sp_title_t t;
    cr_assert_eq (sp_title_parse ("Song", &t), 0);
    char reason[4] = "xyz";
    cr_expect_eq (sp_title_compatible (NULL, &t, reason, sizeof reason), -1);
    cr_expect_str_eq (reason, "");
    cr_expect_eq (sp_title_compatible (&t, NULL, NULL, 0), -1);
    //  A tiny reason buffer is cut, still terminated
    sp_title_t l;
    cr_assert_eq (sp_title_parse ("Song - Live", &l), 0);
    cr_expect_eq (sp_title_compatible (&t, &l, reason, sizeof reason), 0);
    cr_expect_str_eq (reason, "liv");
    cr_expect_eq (sp_title_compatible (&t, &l, NULL, 0), 0);
    cr_expect_eq (sp_title_compatible_kinds (0, SP_TITLE_REMASTER | SP_TITLE_EXPLICIT, NULL, 0), 1);
    cr_expect_str_eq (sp_title_kind_name (SP_TITLE_LIVE), "live version");
    cr_expect_str_eq (sp_title_kind_name (3), "unknown");
}
