/*  fake_slskd_int.h: what the fake slskd's three files share: its
    defaults, the simulated network (users and their files), the search and
    transfer records, and the few helpers more than one file calls.

    fake_slskd.c loads the network and routes requests; fake_slskd_search.c
    serves /searches; fake_slskd_transfer.c serves /transfers/downloads and
    writes the downloaded files. Not a public header: tests/fakes only.
*/
#ifndef SP_FAKE_SLSKD_INT_H
#define SP_FAKE_SLSKD_INT_H

#include "fake.h"
#include "audio.h"

#include <stdbool.h>
#include <stdint.h>

#define NEVER                     INT64_MAX
#define DEFAULT_SEARCH_DELAY_MS   200    //  when users answer a search
#define DEFAULT_SEARCH_TIMEOUT_MS 15000  //  slskd's default searchTimeout
#define DEFAULT_RESPONSE_LIMIT    250
#define DEFAULT_FILE_LIMIT        25000
#define DEFAULT_REQUESTED_MS      100                   //  transfer "Requested" phase
#define DEFAULT_QUEUE_MS          500                   //  "Queued, Remotely" for busy peers
#define DEFAULT_INIT_MS           100                   //  "Initializing"
#define DEFAULT_SLOW_FACTOR       10                    //  "slow" peers take this much longer
#define DEFAULT_STALL_FRACTION    0.5                   //  where "stall" transfers stop
#define DEFAULT_ERROR_FRACTION    0.3                   //  where "error" transfers fail
#define DEFAULT_MAX_ENQUEUES      2                     //  concurrent enqueue POSTs before 429
#define DEFAULT_LENGTH_S          200                   //  audio length when a file gives none
#define DEFAULT_SPEED             1048576               //  bytes/s when a user gives none
#define NET_TICKS_AT_EPOCH        621355968000000000LL  //  .NET ticks at 1970-01-01

#define BUSY_TEXT                                                                                  \
    "Only one concurrent operation is permitted. Wait for the existing operation to complete and " \
    "try again."

typedef enum {
    BEHAVE_OK,
    BEHAVE_SLOW,
    BEHAVE_STALL,
    BEHAVE_QUEUED,
    BEHAVE_REJECT,
    BEHAVE_ERROR,
    BEHAVE_OFFLINE,
    BEHAVE_CORRUPT
} s_behavior_t;

extern const char *fsk_behavior_names[];  //  indexed by s_behavior_t

//  One shared file of a simulated user.
typedef struct {
    char *filename;              //  full remote path (backslashes)
    char *folded;                //  case-folded filename, for matching
    char *ext;                   //  lower-case extension used to write the file
    unsigned length;             //  audio length in seconds
    uint64_t size;               //  the size reported and written
    sp_fake_audio_spec_t audio;  //  what the file holds (fixture "content", bitRate)
    json_t *json;                //  the File object as search responses carry it
} s_file_t;

//  One simulated Soulseek user.
typedef struct {
    char *username;
    int64_t upload_speed;       //  bytes/s
    bool free_slot;             //  hasFreeUploadSlot
    int64_t queue_length;       //  queueLength
    s_behavior_t behavior;      //  see README
    int64_t response_delay_ms;  //  when this user answers a search
    int64_t transfer_ms;        //  InProgress duration override (-1: size/speed)
    int64_t queue_ms;           //  queue phase for busy peers
    int64_t stall_timeout_ms;   //  stall -> TimedOut after this (-1: never)
    s_file_t *files;
    size_t nfiles;
} s_user_t;

//  One search.
typedef struct {
    char id[40];            //  GUID
    char *text;             //  searchText
    int token;              //  search token
    int64_t t0;             //  monotonic start
    int64_t wall0;          //  wall-clock start
    json_t *responses;      //  accepted Response objects in arrival order
    int64_t *at;            //  arrival times (ms after t0) of responses
    int64_t t_end;          //  ms after t0 when it completes by itself
    const char *end_state;  //  state it then takes
    bool cancelled;         //  PUT seen
    int64_t cancel_at;      //  ms after t0 of the cancel
} s_search_t;

//  One download.
typedef struct {
    char id[40];  //  GUID
    char *username;
    char *filename;         //  remote path as enqueued
    long file;              //  index in the user's files, -1 when not shared
    long user;              //  index in users
    uint64_t size;          //  bytes
    int64_t t0, wall0;      //  enqueue time (monotonic, wall)
    int64_t t_enq;          //  end of "Requested" (ms after t0)
    int64_t t_queue;        //  end of "Queued, Remotely"
    int64_t t_start;        //  start of "InProgress"
    int64_t dur;            //  ms the whole file would take
    double cap;             //  fraction of bytes where progress stops
    int64_t t_end;          //  terminal time (NEVER: stays)
    const char *end_state;  //  terminal state
    const char *exception;  //  text for failures
    int64_t place;          //  placeInQueue while queued
    bool final;             //  terminal state reached and frozen
    const char *state;      //  frozen state
    uint64_t bytes;         //  frozen bytes
    int64_t ended;          //  frozen end time (ms after t0)
    bool removed;           //  DELETE ?remove=true
    char *local_path;       //  file written, when any
    char *pending_path;     //  file_lag: the whole file, hidden until it is moved
    int64_t file_lag;       //  file_lag: ms after "ended" when local_path is whole
    bool partial;           //  file_lag: a partial local_path was written
} s_xfer_t;

struct sp_fake_slskd_t {
    bool enabled;    //  DIR/slskd/api-key exists
    char *api_key;   //  X-API-Key
    bool logged_in;  //  network.json logged_in
    int64_t search_delay_ms, search_requested_ms, search_post_ms;
    int64_t search_timeout_ms;  //  (fake) overrides the request's searchTimeout when >= 0
    int64_t requested_ms, queue_ms, init_ms, transfer_ms, slow_factor;
    int64_t stall_timeout_ms, enqueue_ms, max_enqueues;
    double stall_fraction, error_fraction;
    bool realistic;                                      //  network.json "realistic": true
    int64_t responses_lag_min_ms, responses_lag_max_ms;  //  responses stored after isComplete
    int64_t file_lag_min_ms, file_lag_max_ms;  //  file complete in downloads after Succeeded
    s_user_t *users;
    size_t nusers;
    s_search_t **searches;
    size_t nsearches;
    s_xfer_t **xfers;
    size_t nxfers;
    int next_token;         //  search tokens
    int search_posts_busy;  //  POST /searches being handled
    int enqueues_busy;      //  POST /transfers/downloads/{u} being handled
    //  stats
    int64_t searches_started, searches_busy_429, enqueues, enqueue_busy_429;
    json_t *search_texts;   //  every searchText, in order
    json_t *files_written;  //  local paths written
};

// ------------------------------------------------------------ shared helpers

//  Case-folded (not diacritic-folded) copy of s. Caller owns.
char *fsk_fold (const char *s);
int64_t fsk_get_int (json_t *obj, const char *key, int64_t dflt);
double fsk_get_real (json_t *obj, const char *key, double dflt);
//  A number or a [min, max] pair under key (defaults dmin, dmax); min <= max, both >= 0.
void fsk_get_range (json_t *obj, const char *key, int64_t dmin, int64_t dmax, int64_t *min,
                    int64_t *max);
bool fsk_is_guid (const char *s);
//  Lower-cases A-F in place (GUIDs).
void fsk_lower (char *s);
//  The user called name, or NULL; *index set when given.
s_user_t *fsk_user (sp_fake_slskd_t *self, const char *name, long *index);
//  "hh:mm:ss.fffffff" for a duration in ms.
void fsk_timespan (int64_t ms, char *buf, size_t size);
json_t *fsk_time_json (int64_t wall_ms, bool zulu);

// ------------------------------------------------------------ searches (fake_slskd_search.c)

void fsk_search_free (s_search_t *s);
//  GET|POST /searches, GET|PUT|DELETE /searches/{id}, GET /searches/{id}/responses
void fsk_searches (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req, char **seg,
                   int ns, sp_fake_resp_t *resp);

// ------------------------------------------------------------ transfers (fake_slskd_transfer.c)

void fsk_xfer_free (s_xfer_t *x);
//  Brings every transfer up to date with the clock.
void fsk_tick_all (sp_fake_t *fake, sp_fake_slskd_t *self);
json_t *fsk_xfer_json (s_xfer_t *x, int64_t now);
//  /transfers/downloads...
void fsk_transfers (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req, char **seg,
                    int ns, sp_fake_resp_t *resp);

#endif
