#!/usr/bin/python3
"""A NAF front end under failover: request_key in a loop, with reconnect and retry.

Used by scripts/ha_demo.sh (docs/operations.md).  Each worker thread is one
front-end connection.  It asks for keys for its own fleet of devices: new
pairs (first use: expects 'bound'), pairs it has seen bound (expects
'granted') and stolen cards in other devices (expects 'rejected').

What a front end must do on failover is all in NafConnection.request_key:

  * connect with a multi-host connection string and
    target_session_attrs=read-write, so that libpq finds the primary;
  * when the connection breaks during a call, the outcome of that call is
    unknown (it may have committed on the old primary, and with synchronous
    replication reached the new one, or not): reconnect and send the same
    request again;
  * an ERROR on a live connection (e.g. 25006, read-only: the node became a
    standby) means nothing was committed: reconnect and send it again too;
  * take the answer of the attempt that answered, whole: its Ks_local goes
    with its RANDx/RANDy.

Every key answered is checked against the device's own derivation from the
RANDs in the answer (TS 33.110 Ks_local, docs/kdf.md), in Python.

Usage: naf_load.py load CONNINFO ADMIN_CONNINFO STOPFILE [WORKERS] [RATE_PER_WORKER]
         runs until STOPFILE exists, then checks on the primary that every
         binding it was told about is there, and prints a summary
       naf_load.py drill CONNINFO ADMIN_CONNINFO TERMINAL_ID ICCID
         one first use whose session waits for remote_apply (see drill_main)
"""
import base64
import datetime
import hashlib
import hmac
import os
import random
import sys
import threading
import time

import psycopg

NAF_ID = b"naf.example.org" + b"\x01\x00\x00\x00\x02"
BSF = "bsf.example.org"
RETRY_BUDGET = 120.0          # seconds a request may spend reconnecting and retrying
SQL = """SELECT outcome, reason, binding_id, ks_local, rand_x, rand_y, expires_at
           FROM mtcbind.request_key(%s, %s, %s, %s, %s, %s)"""

# SQLSTATEs that say "this server cannot take the write now, nothing was
# committed": reconnect and retry.  Anything else on a live connection is
# the request's own fault and is not retried.
RETRY_ON_LIVE_CONNECTION = {"25006", "57P01", "57P02", "57P03", "40001", "40P01"}

print_lock = threading.Lock()


def now():
    return time.strftime("%H:%M:%S") + ".%03d" % (int(time.time() * 1000) % 1000)


def say(msg):
    with print_lock:
        print("[%s] naf: %s" % (now(), msg), flush=True)


def luhn_complete(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def device_ks_local(ks_int_naf, b_tid, iccid, terminal_id, rand_x, rand_y):
    """What the device and its UICC derive from the RANDs they were sent."""
    s = b"\x01"
    for p in (b_tid.encode(), iccid.encode(), terminal_id.encode(), b"", b"", rand_x, rand_y):
        s += p + len(p).to_bytes(2, "big")
    return hmac.new(ks_int_naf, s, hashlib.sha256).digest()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes = {}
        self.ports = {}
        self.answers = 0
        self.keys_checked = 0
        self.keys_bad = 0
        self.unexpected = 0
        self.unknown_commits = 0
        self.retried_definite = 0
        self.unknown_resolved = {"bound": 0, "granted": 0, "rejected": 0}
        self.outages = []               # (worker, seconds, from port, to port)
        self.examples = []              # (iccid, terminal_id, outcome of retry) for the check
        self.gave_up = 0

    def answer(self, outcome, port):
        with self.lock:
            self.answers += 1
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            self.ports[port] = self.ports.get(port, 0) + 1


class NafConnection:
    """One front-end connection: reconnects, retries, reports."""

    def __init__(self, name, conninfo, stats):
        self.name = name
        self.conninfo = conninfo
        self.stats = stats
        self.conn = None
        self.port = None

    def _connect(self):
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        self.port = self.conn.info.port

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None

    def request_key(self, terminal_id, iccid, label):
        """One Ks_local request, retried until answered (or the budget is spent).

        Returns (row, commit_was_unknown, device_key): commit_was_unknown is True
        when an earlier attempt of this request broke after it was sent;
        device_key is the Ks_local the device derives from the answer's RANDs."""
        ks_int_naf = os.urandom(32)                 # from the BSF over Zn
        b_tid = base64.b64encode(os.urandom(16)).decode() + "@" + BSF
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        args = (NAF_ID, b_tid, ks_int_naf, expiry, terminal_id, iccid)
        unknown = False
        started = time.monotonic()
        failed_at = None
        lost_port = self.port
        attempts = 0
        while True:
            attempts += 1
            sent = False
            try:
                if self.conn is None:
                    self._connect()
                sent = True
                row = self.conn.execute(SQL, args, prepare=True).fetchone()
            except psycopg.Error as e:
                broken = self.conn is None or self.conn.broken or self.conn.closed
                state = getattr(e, "sqlstate", None)
                if not broken and state not in RETRY_ON_LIVE_CONNECTION:
                    raise                           # the request's own fault: no retry
                first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                if failed_at is None:
                    failed_at = time.monotonic()
                    lost_port = self.port
                if sent and broken and not unknown:
                    unknown = True
                    with self.stats.lock:
                        self.stats.unknown_commits += 1
                    say("%s: %s %s/%s on :%s: connection lost during the call, COMMIT UNKNOWN (%s)"
                        % (self.name, label, terminal_id, iccid, lost_port, first_line))
                elif sent and not broken:
                    with self.stats.lock:
                        self.stats.retried_definite += 1
                    say("%s: %s on :%s refused with %s, nothing committed (%s)"
                        % (self.name, label, self.port, state, first_line))
                self.close()
                if time.monotonic() - started > RETRY_BUDGET:
                    with self.stats.lock:
                        self.stats.gave_up += 1
                    say("%s: gave up after %.0f s (a front end answers 503 here)"
                        % (self.name, RETRY_BUDGET))
                    return None, unknown, None
                time.sleep(min(0.1 * attempts, 1.0))
                continue
            if failed_at is not None:
                gap = time.monotonic() - failed_at
                with self.stats.lock:
                    self.stats.outages.append((self.name, gap, lost_port, self.port))
                say("%s: answered by :%s after %.1f s and %d attempts without a read-write server"
                    % (self.name, self.port, gap, attempts - 1))
            device_key = None
            if row[3] is not None:
                device_key = device_ks_local(ks_int_naf, b_tid, iccid, terminal_id, row[4], row[5])
            return row, unknown, device_key


def judge(naf, stats, pair, label, expected, row, unknown, device_key):
    """Checks one answer as the device would see it; reports a retried one."""
    outcome, _, binding_id, ks_local, _, _, _ = row
    stats.answer(outcome, naf.port)
    if unknown and label == "first use":
        expected = ("bound", "granted")     # 'granted' if the lost attempt had bound the pair
    if outcome not in expected:
        with stats.lock:
            stats.unexpected += 1
        say("%s: UNEXPECTED %s for %s %s/%s" % (naf.name, outcome, label, pair[0], pair[1]))
    if ks_local is not None:
        # The device derives its key from the RANDs of this answer: the NAF
        # must hand it this answer's Ks_local, never one of a lost attempt.
        with stats.lock:
            stats.keys_checked += 1
            if ks_local != device_key:
                stats.keys_bad += 1
    if unknown:
        with stats.lock:
            stats.unknown_resolved[outcome] = stats.unknown_resolved.get(outcome, 0) + 1
            stats.examples.append((pair[1], pair[0], label, outcome,
                                   datetime.datetime.now(datetime.timezone.utc)))
        if label == "first use":
            why = ("the lost attempt had committed and bound the pair; this answer's fresh key is the one to use"
                   if outcome == "granted" else
                   "the lost attempt had not committed; the retry bound the pair")
        elif ks_local is not None:
            why = "the same decision again, with a fresh key"
        else:
            why = "refused again; had the lost attempt committed, the refusal is now recorded twice"
        say("%s: retried %s %s/%s on :%s -> %s, binding %s (%s)"
            % (naf.name, label, pair[0], pair[1], naf.port, outcome, binding_id, why))
    return outcome


def worker_main(index, conninfo, stats, stop, rate, acked, acked_lock):
    rnd = random.Random(index)
    naf = NafConnection("worker %d" % index, conninfo, stats)
    fleet = []                  # (terminal_id, iccid) it was told are bound
    next_device = 0
    thieves = 0
    pause = 1.0 / rate
    while not stop.is_set():
        roll = rnd.random()
        if not fleet or roll < 0.45:
            next_device += 1
            pair = ("meter-%d-%05d" % (index, next_device),
                    luhn_complete("8944%02d%013d" % (index, next_device)))
            label, expected = "first use", ("bound",)
        elif roll < 0.9:
            pair = rnd.choice(fleet)
            label, expected = "re-key", ("granted",)
        else:
            thieves += 1
            pair = ("thief-%d-%05d" % (index, thieves), rnd.choice(fleet)[1])
            label, expected = "stolen card", ("rejected",)
        try:
            row, unknown, device_key = naf.request_key(pair[0], pair[1], label)
        except psycopg.Error as e:
            say("%s: %s failed for good: %s" % (naf.name, label, e))
            with stats.lock:
                stats.unexpected += 1
            continue
        if row is None:
            continue
        outcome = judge(naf, stats, pair, label, expected, row, unknown, device_key)
        if outcome in ("bound", "granted") and label == "first use":
            fleet.append(pair)
            with acked_lock:
                acked.append(pair)
        time.sleep(pause)
    naf.close()


def drill_main(conninfo, admin_conninfo, terminal_id, iccid):
    """One first use whose answer is held back until the standby has applied
    its commit (synchronous_commit = remote_apply for this session; the
    script pauses replay on the standby), so that a crash of the primary
    loses the answer of a commit that the new primary has."""
    stats = Stats()
    naf = NafConnection("drill", conninfo + " application_name=naf-drill options='-c synchronous_commit=remote_apply'", stats)
    say("drill: first use %s/%s; its session waits until the standby has applied the commit"
        % (terminal_id, iccid))
    row, unknown, device_key = naf.request_key(terminal_id, iccid, "first use")
    naf.close()
    if row is None:
        sys.exit(1)
    outcome = judge(naf, stats, (terminal_id, iccid), "first use", ("bound",), row, unknown, device_key)
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        hist = conn.execute(
            """SELECT string_agg(event || ' ' || to_char(occurred_at, 'HH24:MI:SS.MS'), ', ' ORDER BY event_id)
                 FROM mtcbind.binding_event WHERE iccid = %s::mtcbind.iccid AND terminal_id = %s""",
            (iccid, terminal_id)).fetchone()[0]
        say("drill: events of %s/%s on :%s: %s" % (terminal_id, iccid, conn.info.port, hist))
    ok = unknown and outcome == "granted" and stats.keys_bad == 0 and stats.unexpected == 0
    say("drill: %s" % ("as expected: commit unknown, retried, granted with a key the device derives too"
                       if ok else "NOT as expected"))
    sys.exit(0 if ok else 1)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "drill":
        drill_main(*sys.argv[2:6])
    if len(sys.argv) < 5 or sys.argv[1] != "load":
        sys.exit(__doc__)
    conninfo, admin_conninfo, stopfile = sys.argv[2:5]
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    rate = float(sys.argv[6]) if len(sys.argv) > 6 else 40.0
    stats = Stats()
    stop = threading.Event()
    acked, acked_lock = [], threading.Lock()
    say("%d workers, about %d requests/s each, connecting with: %s" % (workers, rate, conninfo))
    threads = [threading.Thread(target=worker_main,
                                args=(i + 1, conninfo, stats, stop, rate, acked, acked_lock))
               for i in range(workers)]
    for t in threads:
        t.start()
    last_answers, last_ports, tick = 0, {}, time.monotonic()
    while not os.path.exists(stopfile):
        time.sleep(0.2)
        if time.monotonic() - tick >= 5.0:
            with stats.lock:
                answers, ports = stats.answers, dict(stats.ports)
            delta = {p: n - last_ports.get(p, 0) for p, n in ports.items() if n - last_ports.get(p, 0)}
            say("%4d answers in the last 5 s, by %s" % (
                answers - last_answers,
                ", ".join(":%s %d" % (p, n) for p, n in sorted(delta.items())) or "nobody"))
            last_answers, last_ports, tick = answers, ports, time.monotonic()
    stop.set()
    for t in threads:
        t.join()

    s = stats
    say("stopped.  %d answers: %s; by server: %s" % (
        s.answers, ", ".join("%s %d" % kv for kv in sorted(s.outcomes.items())),
        ", ".join(":%s %d" % kv for kv in sorted(s.ports.items()))))
    say("keys answered: %d; the device's own derivation from each answer's RANDs differs for %d"
        % (s.keys_checked, s.keys_bad))
    say("calls whose commit was unknown: %d, retried and answered: %s"
        % (s.unknown_commits, ", ".join("%s %d" % kv for kv in sorted(s.unknown_resolved.items()) if kv[1])
           or "none"))
    say("calls refused on a live connection (nothing committed) and retried: %d" % s.retried_definite)
    for w, gap, a, b in s.outages:
        say("  %s: no read-write server for %.1f s (:%s -> :%s)" % (w, gap, a, b))
    say("unexpected answers: %d, requests given up: %d" % (s.unexpected, s.gave_up))

    # The check a DBA would make: every binding a device was told about is on the primary.
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        terms = [p[0] for p in acked]
        cards = [p[1] for p in acked]
        present = conn.execute(
            """SELECT count(b.binding_id) FROM unnest(%s::text[], %s::text[]) AS a(t, c)
                 LEFT JOIN mtcbind.binding b ON b.terminal_id = a.t AND b.iccid = a.c::mtcbind.iccid""",
            (terms, cards)).fetchone()[0]
        say("on the primary :%s now: %d of the %d bindings the devices were told about, %d missing"
            % (conn.info.port, present, len(acked), len(acked) - present))
        # The audit trail of the requests that were retried, up to the retry's answer:
        # first uses first, as they are the ones where the lost attempt matters.
        for iccid, terminal_id, label, outcome, answered_at in sorted(
                s.examples, key=lambda e: e[2] != "first use")[:6]:
            hist = conn.execute(
                """SELECT string_agg(event || ' ' || to_char(occurred_at, 'HH24:MI:SS.MS'), ', ' ORDER BY event_id)
                     FROM (SELECT event_id, event, occurred_at FROM mtcbind.binding_event
                            WHERE iccid = %s::mtcbind.iccid AND terminal_id = %s
                              AND occurred_at <= %s::timestamptz + interval '50 ms'
                            ORDER BY event_id DESC LIMIT 3) last""",
                (iccid, terminal_id, answered_at)).fetchone()[0]
            say("  last events of %s/%s (%s, retry answered %s): %s"
                % (terminal_id, iccid, label, outcome, hist))
    ok = s.unexpected == 0 and s.keys_bad == 0 and s.gave_up == 0 and present == len(acked)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
