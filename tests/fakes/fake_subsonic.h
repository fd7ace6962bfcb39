/*  fake_subsonic.h: the fake Subsonic API server (Navidrome flavour) of
    soulpipe-fake, under /rest/. Fixture format: tests/fakes/README.md,
    "Subsonic". One per process: the state is module-static, so fake.c
    needs no field for it.
*/
#ifndef SP_FAKE_SUBSONIC_H
#define SP_FAKE_SUBSONIC_H

#include "fake.h"

/*  Load DIR/subsonic/server.json (missing: Subsonic disabled, /rest/
    answers 404). Returns 0, or -1 with a message in err on a bad fixture. */
int sp_fake_subsonic_init (const char *fixtures_dir, char *err, size_t err_size);
/*  Free the state. Safe to call when init failed or was not called. */
void sp_fake_subsonic_fini (void);
/*  Answer /rest/... (returns true) or leave the request to others. */
bool sp_fake_subsonic_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp);
/*  Add "subsonic": {...} counters to the stats object. */
void sp_fake_subsonic_stats (sp_fake_t *fake, json_t *stats);

#endif
