/*
 * A TCP proxy that delays every chunk it reads by a set time in each direction, keeping order:
 * added latency where `tc netem` is missing.
 *
 *   delay-proxy <listen address> <target address> <target port> <delay ms>
 *
 * It prints `listening <port>` once it accepts connections. On its standard input, a line `<ms>`
 * sets the delay of chunks read from then on (answered `delay <ms>`), and a line `delays` asks how
 * late the chunks written so far left against when they were read (answered `delays <count> <mean
 * ms> <median ms> <99th percentile ms> <max ms>`): a proxy on a busy machine delays more than it is
 * set to. It exits when its standard input ends. It delays bytes, not packets: it cannot drop,
 * reorder or duplicate what TCP would recover from.
 *
 * Why not in JavaScript: a proxy is the network, which costs the machine nothing on a real link.
 * In Node, timers wait whole milliseconds (1 ms became 1.2 on average) and each chunk costs the
 * event loop a timer and a copy: on the cluster benchmark two proxies took 19 ms of CPU a batch,
 * from the core the client and Redis run on. Here a reader thread per direction stamps each chunk
 * with its due time and a writer thread sleeps until then (clock_nanosleep, to the microsecond).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes held back per direction before its reader stops reading (TCP then slows the sender). */
#define HIGH_WATER (1 << 20)
#define READ_SIZE (64 * 1024)

static atomic_llong delay_ns;

/* The delays chunks got, from read to written, in 10 µs buckets: every chunk beyond the last bucket counts in it. */
#define BUCKET_NS 10000
#define BUCKETS 10000
static atomic_ullong delays[BUCKETS];
static atomic_ullong delays_sum_ns, delays_max_ns;

/* A chunk read, due for writing at `due`; `length` 0 marks the end of the direction's stream. */
struct chunk {
  struct chunk *next;
  struct timespec read, due;
  size_t length;
  char bytes[];
};

struct direction {
  int from, to;
  pthread_mutex_t lock;
  pthread_cond_t arrived, drained;
  struct chunk *head, *tail;
  size_t held;
  struct connection *connection;
};

/* Two sockets and their two directions; the last of its four threads to finish frees it. */
struct connection {
  atomic_int threads;
  int client, upstream;
  struct direction directions[2];
};

static void fail(const char *what) {
  perror(what);
  exit(1);
}

static void release(struct connection *connection) {
  if (atomic_fetch_sub(&connection->threads, 1) != 1) return;
  close(connection->client);
  close(connection->upstream);
  for (int i = 0; i < 2; i++) {
    pthread_mutex_destroy(&connection->directions[i].lock);
    pthread_cond_destroy(&connection->directions[i].arrived);
    pthread_cond_destroy(&connection->directions[i].drained);
  }
  free(connection);
}

/* A broken side ends both: the peers see their connections end, as they would through a dead link. */
static void break_connection(struct connection *connection) {
  shutdown(connection->client, SHUT_RDWR);
  shutdown(connection->upstream, SHUT_RDWR);
}

static void push(struct direction *direction, struct chunk *chunk) {
  chunk->next = NULL;
  clock_gettime(CLOCK_MONOTONIC, &chunk->read);
  long long due = chunk->read.tv_nsec + atomic_load(&delay_ns);
  chunk->due.tv_sec = chunk->read.tv_sec + due / 1000000000;
  chunk->due.tv_nsec = due % 1000000000;
  pthread_mutex_lock(&direction->lock);
  while (direction->held >= HIGH_WATER) pthread_cond_wait(&direction->drained, &direction->lock);
  if (direction->tail == NULL) direction->head = chunk;
  else direction->tail->next = chunk;
  direction->tail = chunk;
  direction->held += chunk->length;
  pthread_cond_signal(&direction->arrived);
  pthread_mutex_unlock(&direction->lock);
}

static struct chunk *take(struct direction *direction) {
  pthread_mutex_lock(&direction->lock);
  while (direction->head == NULL) pthread_cond_wait(&direction->arrived, &direction->lock);
  struct chunk *chunk = direction->head;
  direction->head = chunk->next;
  if (direction->head == NULL) direction->tail = NULL;
  direction->held -= chunk->length;
  pthread_cond_signal(&direction->drained);
  pthread_mutex_unlock(&direction->lock);
  return chunk;
}

static void *read_side(void *argument) {
  struct direction *direction = argument;
  for (;;) {
    struct chunk *chunk = malloc(sizeof *chunk + READ_SIZE);
    if (chunk == NULL) fail("malloc");
    ssize_t got = read(direction->from, chunk->bytes, READ_SIZE);
    if (got < 0 && errno == EINTR) {
      free(chunk);
      continue;
    }
    chunk->length = got > 0 ? (size_t)got : 0;
    push(direction, chunk);
    if (got <= 0) break;
  }
  release(direction->connection);
  return NULL;
}

static void count_delay(const struct chunk *chunk) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  unsigned long long ns = (unsigned long long)((now.tv_sec - chunk->read.tv_sec) * 1000000000LL + (now.tv_nsec - chunk->read.tv_nsec));
  unsigned long long bucket = ns / BUCKET_NS;
  atomic_fetch_add(&delays[bucket < BUCKETS ? bucket : BUCKETS - 1], 1);
  atomic_fetch_add(&delays_sum_ns, ns);
  unsigned long long max = atomic_load(&delays_max_ns);
  while (ns > max && !atomic_compare_exchange_weak(&delays_max_ns, &max, ns)) {
  }
}

/* The upper bound, in ms, of the bucket that holds the `rank`-th shortest delay (from 1). */
static double delay_at_rank(unsigned long long rank) {
  unsigned long long seen = 0;
  for (int bucket = 0; bucket < BUCKETS; bucket++) {
    seen += atomic_load(&delays[bucket]);
    if (seen >= rank) return (bucket + 1) * BUCKET_NS / 1e6;
  }
  return BUCKETS * BUCKET_NS / 1e6;
}

static void report_delays(void) {
  unsigned long long count = 0;
  for (int bucket = 0; bucket < BUCKETS; bucket++) count += atomic_load(&delays[bucket]);
  if (count == 0) {
    printf("delays 0 0 0 0 0\n");
    return;
  }
  printf("delays %llu %.3f %.2f %.2f %.3f\n", count, atomic_load(&delays_sum_ns) / 1e6 / count, delay_at_rank((count + 1) / 2),
         delay_at_rank(count - count / 100), atomic_load(&delays_max_ns) / 1e6);
}

static void *write_side(void *argument) {
  struct direction *direction = argument;
  int broken = 0;
  for (;;) {
    struct chunk *chunk = take(direction);
    if (chunk->length == 0) {
      free(chunk);
      if (!broken) shutdown(direction->to, SHUT_WR);
      break;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &chunk->due, NULL) == EINTR) {
    }
    count_delay(chunk);
    for (size_t sent = 0; !broken && sent < chunk->length;) {
      ssize_t wrote = send(direction->to, chunk->bytes + sent, chunk->length - sent, MSG_NOSIGNAL);
      if (wrote > 0) sent += (size_t)wrote;
      else if (wrote < 0 && errno != EINTR) {
        broken = 1;
        break_connection(direction->connection);
      }
    }
    free(chunk);
  }
  release(direction->connection);
  return NULL;
}

static void start(pthread_attr_t *detached, void *(*body)(void *), void *argument) {
  pthread_t thread;
  if (pthread_create(&thread, detached, body, argument) != 0) fail("pthread_create");
}

static void serve(int client, const struct sockaddr_in *target, pthread_attr_t *detached) {
  int upstream = socket(AF_INET, SOCK_STREAM, 0);
  if (upstream < 0 || connect(upstream, (const struct sockaddr *)target, sizeof *target) != 0) {
    if (upstream >= 0) close(upstream);
    close(client);
    return;
  }
  int on = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  struct connection *connection = calloc(1, sizeof *connection);
  if (connection == NULL) fail("calloc");
  connection->client = client;
  connection->upstream = upstream;
  atomic_init(&connection->threads, 4);
  int ends[2][2] = {{client, upstream}, {upstream, client}};
  for (int i = 0; i < 2; i++) {
    struct direction *direction = &connection->directions[i];
    direction->from = ends[i][0];
    direction->to = ends[i][1];
    direction->connection = connection;
    pthread_mutex_init(&direction->lock, NULL);
    pthread_cond_init(&direction->arrived, NULL);
    pthread_cond_init(&direction->drained, NULL);
  }
  for (int i = 0; i < 2; i++) {
    start(detached, read_side, &connection->directions[i]);
    start(detached, write_side, &connection->directions[i]);
  }
}

static void set_delay(const char *ms) {
  atomic_store(&delay_ns, (long long)(strtod(ms, NULL) * 1e6));
}

/* The harness's control channel: a delay per line; its end (the harness gone) ends the proxy. */
static void *read_control(void *unused) {
  (void)unused;
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
    if (strncmp(line, "delays", 6) == 0) {
      report_delays();
    } else {
      set_delay(line);
      printf("delay %g\n", atomic_load(&delay_ns) / 1e6);
    }
    fflush(stdout);
  }
  exit(0);
}

static struct sockaddr_in address_of(const char *host, const char *port) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", host);
    exit(2);
  }
  return address;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s <listen address> <target address> <target port> <delay ms>\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  // The default slack lets a sleep end up to 50 µs late: a twentieth of a 1 ms delay.
  prctl(PR_SET_TIMERSLACK, 1UL);
  set_delay(argv[4]);
  struct sockaddr_in listen_at = address_of(argv[1], "0");
  struct sockaddr_in target = address_of(argv[2], argv[3]);
  int server = socket(AF_INET, SOCK_STREAM, 0);
  if (server < 0) fail("socket");
  if (bind(server, (struct sockaddr *)&listen_at, sizeof listen_at) != 0) fail("bind");
  if (listen(server, 128) != 0) fail("listen");
  socklen_t length = sizeof listen_at;
  if (getsockname(server, (struct sockaddr *)&listen_at, &length) != 0) fail("getsockname");
  pthread_attr_t detached;
  pthread_attr_init(&detached);
  pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&detached, 64 * 1024);
  start(&detached, read_control, NULL);
  printf("listening %d\n", ntohs(listen_at.sin_port));
  fflush(stdout);
  for (;;) {
    int client = accept(server, NULL, NULL);
    if (client >= 0) serve(client, &target, &detached);
    else if (errno != EINTR && errno != ECONNABORTED) fail("accept");
  }
}
