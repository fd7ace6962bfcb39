/*  Table-driven ranking test: 40+ tracks, each with a realistic result set
    (the right copy among decoys; only decoys, where nothing may be chosen;
    version-asking titles) and the expected choice (user "win", or none). */
#include "soulpipe/match.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *user, *path;
    int length, bitrate, vbr;
} s_res_t;

typedef struct {
    const char *title, *artists, *album;
    int dur;
    const char *expect;  //  username ranked first, NULL = nothing acceptable
    s_res_t res[6];
} s_case_t;

#define F(u, p, l)                                                                                 \
    {                                                                                              \
        u, p, l, -1, -1                                                                            \
    }  //  lossless
#define M(u, p, l, b)                                                                              \
    {                                                                                              \
        u, p, l, b, 0                                                                              \
    }  //  CBR lossy
#define V(u, p, l, b)                                                                              \
    {                                                                                              \
        u, p, l, b, 1                                                                              \
    }  //  VBR lossy

static const s_case_t s_cases[] = {
    {"Bohemian Rhapsody - Remastered 2011",
     "Queen",
     "A Night At The Opera (2011 Remaster)",
     354,
     "win",
     {F ("live", "@@a\\Queen\\Live at Wembley '86\\CD1\\05 Bohemian Rhapsody.flac", 355),
      M ("kara", "@@b\\Karaoke\\Queen - Bohemian Rhapsody (Karaoke Version).mp3", 354, 320),
      F ("win",
         "@@c\\Music\\Queen\\1975 - A Night at the Opera [FLAC]\\11 - Bohemian Rhapsody.flac", 355),
      M ("lofi", "@@d\\mp3\\Queen - Bohemian Rhapsody.mp3", 354, 128)}},
    {"Go Your Own Way - 2004 Remaster",
     "Fleetwood Mac",
     "Rumours",
     224,
     "win",
     {M ("kara", "@@k\\Karaoke\\Fleetwood Mac - Go Your Own Way (Karaoke Version).mp3", 224, 320),
      F ("win", "@@v\\Music\\Fleetwood Mac\\1977 - Rumours [FLAC]\\05 - Go Your Own Way.flac",
         223)}},
    {"Hoppípolla",
     "Sigur Rós",
     "Takk...",
     268,
     "win",
     {M ("lofi", "@@l\\mp3\\Sigur Ros - Hoppipolla.mp3", 268, 128),
      F ("win", "@@n\\Music\\Sigur Ros\\2005 - Takk\\03 - Hoppipolla.flac", 268)}},
    {"Get Lucky (feat. Pharrell Williams and Nile Rodgers) - Radio Edit",
     "Daft Punk|Pharrell Williams|Nile Rodgers",
     "Get Lucky (Radio Edit)",
     248,
     "win",
     {F ("album",
         "@@v\\Music\\Daft Punk\\2013 - Random Access Memories [FLAC]\\08 - Get Lucky.flac", 369),
      M ("remix", "@@r\\Remixes\\Daft Punk - Get Lucky (Daft Punk Remix).mp3", 248, 320),
      M ("win",
         "@@m\\MP3\\Daft Punk - Get Lucky (Radio Edit) (2013)\\01. Get Lucky (Radio Edit) [feat. "
         "Pharrell Williams & Nile Rodgers].mp3",
         248, 320)}},
    {"上を向いて歩こう",
     "坂本九",
     "坂本九 ベスト・セレクション",
     185,
     "win",
     {M ("cover", "@@c\\Covers\\A Taste of Honey - Sukiyaki.mp3", 185, 320),
      F ("win", "@@t\\音楽\\坂本九\\坂本九 ベスト・セレクション\\01 上を向いて歩こう.flac", 185)}},
    {"Группа крови",
     "Кино",
     "Группа крови",
     288,
     "win",
     {M ("live", "@@l\\Live\\Кино - Группа крови (Live, Лужники 1990).mp3", 288, 320),
      F ("win", "@@k\\Музыка\\Кино\\1988 - Группа крови\\01 - Группа крови.flac", 288)}},
    {"Hotel California - 2013 Remaster",
     "Eagles",
     "Hotel California (2013 Remaster)",
     391,
     "win",
     {F ("live", "@@l\\Live\\Eagles - Hell Freezes Over (1994)\\06. Hotel California (Live).flac",
         391),
      M ("cover", "@@c\\Covers\\Gipsy Kings - Hotel California (Spanish Mix).mp3", 391, 320),
      F ("win", "@@a\\Eagles - Hotel California (1976)\\01. Hotel California.flac", 390)}},
    {"Africa",
     "TOTO",
     "Toto IV",
     295,
     "win",
     {M ("weezer", "@@w\\Weezer\\Teal Album\\02 Africa.mp3", 295, 320),
      F ("win", "@@t\\Toto\\1982 - Toto IV\\10 - Africa.flac", 295)}},
    {"Africa",
     "TOTO",
     "Toto IV",
     295,
     NULL,
     {M ("weezer", "@@w\\Weezer\\Teal Album\\02 Africa.mp3", 295, 320),
      M ("kara", "@@k\\Karaoke Hits\\Toto - Africa (Karaoke).mp3", 295, 320),
      M ("lofi", "@@l\\Toto - Africa.mp3", 295, 96)}},
    {"Numb",
     "Linkin Park",
     "Meteora",
     187,
     NULL,
     {F ("live", "@@a\\Linkin Park\\Live in Texas\\05 Numb.flac", 187),
      F ("len", "@@b\\Linkin Park\\Meteora\\13 Numb.flac", 230),
      M ("lofi", "@@c\\Linkin Park\\Meteora\\13 Numb.mp3", 187, 160)}},
    {"Numb - Live",
     "Linkin Park",
     "Live in Texas",
     190,
     "win",
     {F ("studio", "@@a\\Linkin Park\\Meteora\\13 Numb.flac", 187),
      F ("win", "@@b\\Linkin Park\\Live in Texas\\05 Numb.flac", 190)}},
    {"About a Girl",
     "Nirvana",
     "MTV Unplugged In New York",
     217,
     "win",
     {F ("bleach", "@@a\\Nirvana\\Bleach\\03 About a Girl.flac", 168),
      F ("win", "@@b\\Nirvana\\1994 - MTV Unplugged in New York\\01 - About a Girl.flac", 217)}},
    {"About a Girl",
     "Nirvana",
     "Bleach",
     168,
     "win",
     {F ("unplugged", "@@b\\Nirvana\\MTV Unplugged in New York\\01 - About a Girl.flac", 168),
      F ("win", "@@a\\Nirvana\\1989 - Bleach\\03 About a Girl.flac", 168)}},
    {"Levels - Skrillex Remix",
     "Avicii",
     "Levels (Remixes)",
     281,
     "win",
     {M ("orig", "@@a\\Avicii\\Levels\\01 Levels (Original Mix).mp3", 281, 320),
      M ("tiesto", "@@b\\Avicii - Levels (Tiesto Remix).mp3", 281, 320),
      M ("win", "@@c\\Avicii - Levels (Skrillex Remix).mp3", 281, 320)}},
    {"Levels",
     "Avicii",
     "Levels",
     202,
     "win",
     {M ("remix", "@@c\\Avicii - Levels (Skrillex Remix).mp3", 202, 320),
      M ("win", "@@a\\Avicii\\Levels\\01 Levels (Radio Edit).mp3", 202, 320)}},
    {"Shake It Off (Taylor's Version)",
     "Taylor Swift",
     "1989 (Taylor's Version)",
     219,
     "win",
     {F ("orig", "@@a\\Taylor Swift\\1989\\06 Shake It Off.flac", 219),
      F ("win",
         "@@b\\Taylor Swift\\1989 (Taylor's Version)\\06 Shake It Off (Taylor's Version).flac",
         219)}},
    {"Shake It Off",
     "Taylor Swift",
     "1989",
     219,
     "win",
     {F ("tv",
         "@@b\\Taylor Swift\\1989 (Taylor's Version)\\06 Shake It Off (Taylor's Version).flac",
         219),
      M ("win", "@@a\\Taylor Swift\\1989\\06 Shake It Off.mp3", 219, 320)}},
    {"Hello",
     "Adele",
     "25",
     295,
     "win",
     {M ("kara", "@@k\\Karaoke\\Hello (In the Style of Adele) [Karaoke Version].mp3", 295, 320),
      M ("inst", "@@i\\Adele - Hello (Instrumental).mp3", 295, 320),
      V ("win", "@@a\\Adele\\25\\01 Hello.mp3", 295, 245)}},
    {"Hello",
     "Adele",
     "25",
     295,
     NULL,
     {M ("kara", "@@k\\Karaoke\\Hello (In the Style of Adele) [Karaoke Version].mp3", 295, 320),
      M ("inst", "@@i\\Adele - Hello (Instrumental).mp3", 295, 320),
      M ("lionel", "@@l\\Lionel Richie\\Can't Slow Down\\Hello.mp3", 295, 320)}},
    {"Comfortably Numb",
     "Pink Floyd",
     "The Wall",
     382,
     "win",
     {F ("live", "@@l\\Pink Floyd\\Pulse\\CD2\\07 Comfortably Numb.flac", 382),
      F ("win", "@@w\\Pink Floyd\\1979 - The Wall\\CD2\\06 - Comfortably Numb.flac", 383)}},
    {"Another Brick in the Wall, Pt. 2",
     "Pink Floyd",
     "The Wall",
     239,
     "win",
     {F ("pt1", "@@a\\Pink Floyd\\The Wall\\CD1\\03 Another Brick in the Wall, Part 1.flac", 239),
      F ("pt3", "@@a\\Pink Floyd\\The Wall\\CD1\\12 Another Brick in the Wall (Part III).flac",
         239),
      F ("win", "@@a\\Pink Floyd\\The Wall\\CD1\\05 Another Brick in the Wall (Part II).flac",
         239)}},
    {"Smells Like Teen Spirit",
     "Nirvana",
     "Nevermind",
     301,
     "win",
     {M ("demo",
         "@@d\\Nirvana\\Nevermind (Deluxe)\\CD2\\Smells Like Teen Spirit (Boombox Rehearsal "
         "Demo).mp3",
         301, 320),
      M ("tori", "@@t\\Tori Amos\\Crucify\\Smells Like Teen Spirit.mp3", 301, 320),
      F ("win", "@@n\\Nirvana\\Nevermind\\01 Smells Like Teen Spirit.flac", 301)}},
    {"Dancing Queen",
     "ABBA",
     "Arrival",
     230,
     "win",
     {M ("nightcore", "@@n\\Nightcore - Dancing Queen.mp3", 190, 320),
      M ("sped", "@@s\\ABBA - Dancing Queen (Sped Up).mp3", 230, 320),
      M ("win", "@@a\\ABBA\\Arrival\\02 - Dancing Queen.mp3", 231, 320)}},
    {"Dancing Queen - Sped Up",
     "ABBA",
     "Dancing Queen (Sped Up)",
     185,
     "win",
     {M ("orig", "@@a\\ABBA\\Arrival\\02 - Dancing Queen.mp3", 231, 320),
      M ("win", "@@s\\ABBA - Dancing Queen (Sped Up).mp3", 185, 320)}},
    {"Creep - Acoustic",
     "Radiohead",
     "Creep (Acoustic)",
     260,
     "win",
     {F ("studio", "@@r\\Radiohead\\Pablo Honey\\02 Creep.flac", 238),
      M ("win", "@@a\\Radiohead - Creep (Acoustic).mp3", 259, 320)}},
    {"Creep",
     "Radiohead",
     "Pablo Honey",
     238,
     "win",
     {M ("acoustic", "@@a\\Radiohead - Creep (Acoustic).mp3", 238, 320),
      M ("win", "@@r\\Radiohead\\Pablo Honey\\02 Creep.mp3", 238, 320)}},
    {"Yesterday - Remastered 2009",
     "The Beatles",
     "Help! (Remastered)",
     125,
     "win",
     {F ("once", "@@c\\Carpenters\\Yesterday Once More.flac", 125),
      F ("win", "@@b\\Beatles\\Help! (2009 Remaster)\\13 Yesterday.flac", 125)}},
    {"Back In Black",
     "AC/DC",
     "Back In Black",
     255,
     "win",
     {M ("win", "@@a\\ACDC\\1980 - Back In Black\\06 Back In Black.mp3", 255, 320),
      M ("shania", "@@s\\Shania Twain\\Back in Black (cover).mp3", 255, 320)}},
    {"Crazy In Love (feat. JAY-Z)",
     "Beyoncé|JAY-Z",
     "Dangerously In Love",
     236,
     "win",
     {M ("remix", "@@r\\Beyonce - Crazy In Love (Remix).mp3", 236, 320),
      M ("win", "@@b\\Beyonce\\Dangerously in Love\\01 Crazy in Love (feat. Jay-Z).mp3", 236,
         320)}},
    {"Kickstart My Heart",
     "Mötley Crüe",
     "Dr. Feelgood",
     283,
     "win",
     {F ("win", "@@m\\Mo\xcc\x88tley Cru\xcc\x88\\Dr. Feelgood\\05 Kickstart My Heart.flac", 283)}},
    {"Jóga",
     "Björk",
     "Homogenic",
     305,
     "win",
     {V ("v2", "@@x\\Bjork\\Homogenic\\02 Joga.mp3", 305, 190),
      F ("win", "@@y\\Björk\\Homogenic\\02 Jóga.flac", 305)}},
    {"Under Pressure",
     "Queen|David Bowie",
     "Hot Space",
     248,
     "win",
     {M ("vanilla", "@@v\\Vanilla Ice\\Ice Ice Baby.mp3", 248, 320),
      M ("win", "@@b\\David Bowie\\Best Of Bowie\\Under Pressure.mp3", 248, 320)}},
    {"Blinding Lights",
     "The Weeknd",
     "After Hours",
     200,
     "win",
     {M ("slowed", "@@s\\The Weeknd - Blinding Lights (Slowed + Reverb).mp3", 260, 320),
      M ("ext", "@@e\\The Weeknd - Blinding Lights (Extended Mix).mp3", 200, 320),
      M ("win", "@@w\\The Weeknd\\After Hours (2020)\\09. Blinding Lights.mp3", 200, 320)}},
    {"Blinding Lights",
     "The Weeknd",
     "After Hours",
     200,
     NULL,
     {M ("slowed", "@@s\\The Weeknd - Blinding Lights (Slowed + Reverb).mp3", 200, 320),
      M ("ext", "@@e\\The Weeknd - Blinding Lights (Extended Mix).mp3", 200, 320),
      M ("acap", "@@a\\The Weeknd - Blinding Lights (Acapella).mp3", 200, 320)}},
    {"Wonderwall - Remastered",
     "Oasis",
     "(What's The Story) Morning Glory?",
     258,
     "win",
     {M ("ryan", "@@r\\Ryan Adams\\Love Is Hell\\Wonderwall.mp3", 258, 320),
      F ("win",
         "@@o\\Oasis\\(What's the Story) Morning Glory (Remastered) [FLAC]\\03. Wonderwall "
         "(Remastered).flac",
         258)}},
    {"Wonderwall",
     "Oasis",
     "(What's The Story) Morning Glory?",
     258,
     "win",
     {M ("demo", "@@d\\Oasis - Wonderwall (Demo).mp3", 258, 320),
      M ("mp3", "@@m\\Oasis\\Morning Glory\\03 Wonderwall.mp3", 258, 320),
      F ("win", "@@f\\Oasis\\Morning Glory\\03 Wonderwall.flac", 258)}},
    {"Take On Me",
     "a-ha",
     "Hunting High and Low",
     225,
     "win",
     {M ("unpl", "@@u\\a-ha\\MTV Unplugged - Summer Solstice\\Take On Me.mp3", 225, 320),
      F ("win", "@@a\\a-ha\\Hunting High And Low\\01-take_on_me.flac", 225)}},
    {"Billie Jean",
     "Michael Jackson",
     "Thriller",
     294,
     "win",
     {M ("cover", "@@c\\Covers\\Chris Cornell - Billie Jean.mp3", 294, 320),
      M ("win", "@@m\\Michael Jackson\\Thriller\\06 - Billie Jean.mp3", 294, 320),
      M ("len", "@@l\\Michael Jackson\\Thriller 25\\06 - Billie Jean.mp3", 310, 320)}},
    {"Sweet Child O' Mine",
     "Guns N' Roses",
     "Appetite for Destruction",
     356,
     "win",
     {M ("win", "@@g\\Guns N Roses\\Appetite for Destruction\\09 Sweet Child O Mine.mp3", 356, 320),
      M ("sheryl", "@@s\\Sheryl Crow\\Sweet Child O' Mine.mp3", 356, 320)}},
    {"Don't Stop Me Now - Remastered 2011",
     "Queen",
     "Jazz (2011 Remaster)",
     209,
     "win",
     {M ("live", "@@l\\Queen\\Live Killers\\Don't Stop Me Now (Live).mp3", 209, 320),
      F ("win", "@@q\\Queen\\Jazz\\12 - Don’t Stop Me Now.flac", 210)}},
    {"Space Oddity - 2015 Remaster",
     "David Bowie",
     "David Bowie (aka Space Oddity)",
     315,
     "win",
     {M ("mono", "@@m\\David Bowie\\Space Oddity (Mono Single Edit).mp3", 272, 320),
      F ("win",
         "@@b\\David Bowie\\1969 - Space Oddity (2015 Remaster)\\01 - Space Oddity (2015 "
         "Remaster).flac",
         315)}},
    {"Gimme! Gimme! Gimme! (A Man After Midnight)",
     "ABBA",
     "Voulez-Vous",
     292,
     "win",
     {M ("win", "@@a\\ABBA\\Voulez-Vous\\ABBA - Gimme! Gimme! Gimme! (A Man After Midnight).mp3",
         292, 320)}},
    {"Intro",
     "The xx",
     "xx",
     128,
     "win",
     {M ("m83", "@@m\\M83\\Hurry Up, We're Dreaming\\01 Intro.mp3", 128, 320),
      F ("win", "@@x\\The xx\\xx\\01 Intro.flac", 128)}},
    {"Clair de lune",
     "Claude Debussy|Isao Tomita",
     "Snowflakes Are Dancing",
     354,
     NULL,
     {F ("piano", "@@p\\Classical\\Debussy - Clair de Lune (Piano Version).flac", 354),
      F ("other", "@@o\\Classical\\Debussy\\Suite bergamasque\\03 Clair de lune.flac", 300)}},
    {"7 Rings",
     "Ariana Grande",
     "thank u, next",
     178,
     "win",
     {M ("rings", "@@r\\Ariana Grande\\thank u, next\\Rings.mp3", 178, 320),
      M ("win", "@@w\\Ariana Grande\\thank u, next\\10 - 7 rings.mp3", 178, 320)}},
};

Test (match_table, expected_choice_for_every_track)
{
    size_t n_cases = sizeof s_cases / sizeof s_cases[0];
    cr_assert_geq (n_cases, 40);
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    for (size_t c = 0; c < n_cases; c++) {
        const s_case_t *k = &s_cases[c];
        sp_track_t t;
        memset (&t, 0, sizeof t);
        char *artists[4];
        char *copy = strdup (k->artists);
        size_t na = 0;
        for (char *tok = strtok (copy, "|"); tok && na < 4; tok = strtok (NULL, "|"))
            artists[na++] = tok;
        t.title = (char *) k->title;
        t.artists = artists;
        t.artists_count = na;
        t.album = (char *) k->album;
        t.has_duration_ms = true;
        t.duration_ms = (uint64_t) k->dur * 1000;
        sp_match_track_t *mt = sp_match_track_new (&t);
        cr_assert_not_null (mt, "case %zu", c);
        sp_match_set_t *set = sp_match_set_new ();
        for (size_t i = 0; i < 6 && k->res[i].user; i++) {
            sp_match_result_t r;
            memset (&r, 0, sizeof r);
            r.username = (char *) k->res[i].user;
            r.filename = (char *) k->res[i].path;
            r.length = k->res[i].length;
            r.bitrate = k->res[i].bitrate;
            r.vbr = k->res[i].vbr;
            r.bitdepth = r.bitrate < 0 ? 16 : -1;
            r.samplerate = 44100;
            r.size = 20000000;
            r.free_slot = 1;
            r.queue = 0;
            r.speed = 1000000;
            cr_assert_eq (sp_match_set_add (set, &r), 0, "case %zu: %s", c, r.filename);
        }
        size_t accepted = sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0);
        char why[2048] = "", reason[256];
        for (size_t i = 0; i < sp_match_set_count (set); i++) {
            const sp_match_result_t *r = sp_match_set_get (set, i);
            size_t off = strlen (why);
            snprintf (why + off, sizeof why - off, "\n  %s %.1f %s", r->username, r->score,
                      sp_match_reason (r, &prefs, mt, reason, sizeof reason));
        }
        if (!k->expect)
            cr_expect_eq (accepted, 0, "case %zu (%s): expected nothing, got %s%s", c, k->title,
                          accepted ? sp_match_set_get (set, 0)->username : "-", why);
        else {
            cr_expect_gt (accepted, 0, "case %zu (%s): nothing accepted%s", c, k->title, why);
            if (accepted)
                cr_expect_str_eq (sp_match_set_get (set, 0)->username, k->expect,
                                  "case %zu (%s): %s ranked first%s", c, k->title,
                                  sp_match_set_get (set, 0)->username, why);
        }
        sp_match_set_destroy (&set);
        sp_match_track_destroy (&mt);
        free (copy);
    }
}
