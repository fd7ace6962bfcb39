/*  fake_jellyfin.h: the fake Jellyfin server of soulpipe-fake (/Items,
    /Users, /Library/Refresh, /ScheduledTasks, /Playlists,
    /System/Info/Public). Fixture format: tests/fakes/README.md, "Jellyfin".
    One per process: the state is module-static, so fake.c needs no field
    for it.
*/
#ifndef SP_FAKE_JELLYFIN_H
#define SP_FAKE_JELLYFIN_H

#include "fake.h"

/*  Load DIR/jellyfin/server.json (missing: Jellyfin disabled, its paths
    answer 404). Returns 0, or -1 with a message in err on a bad fixture. */
int sp_fake_jellyfin_init (const char *fixtures_dir, char *err, size_t err_size);
/*  Free the state. Safe to call when init failed or was not called. */
void sp_fake_jellyfin_fini (void);
/*  Answer a Jellyfin path (returns true) or leave the request to others. */
bool sp_fake_jellyfin_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp);
/*  Add "jellyfin": {...} counters to the stats object. */
void sp_fake_jellyfin_stats (sp_fake_t *fake, json_t *stats);

#endif
