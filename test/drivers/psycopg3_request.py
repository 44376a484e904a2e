#!/usr/bin/python3
"""A NAF front end as psycopg 3 users write it: identifiers as Python str.

With %b placeholders psycopg 3 sends parameters in binary and types a str
as text (OID 25), which request_key and bind must accept; with %s it sends
them in text, untyped.  Prints one line per call:
<label> <outcome> <reason> <key octets>.
"""
import datetime
import sys

import psycopg

dsn = sys.argv[1]
KS = bytes(range(32))
NAF_ID = b"naf.example.org\x01\x00\x00\x00\x02"
BTID = "I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org"
SQL_TEXT = """SELECT outcome, reason, ks_local
                FROM mtcbind.request_key(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""
SQL_BINARY = SQL_TEXT.replace("%s", "%b")


def request(conn, label, terminal_id, iccid, imei=None, imeisv=None, imsi=None, binary=True):
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    with conn.transaction():
        row = conn.execute(SQL_BINARY if binary else SQL_TEXT,
                           (NAF_ID, BTID, KS, expiry, terminal_id, iccid, imei, imeisv, imsi, "", ""),
                           binary=binary, prepare=True).fetchone()
    print(label, row[0], row[1] or "-", len(row[2]) if row[2] is not None else 0)


with psycopg.connect(dsn, autocommit=True) as conn:
    request(conn, "binary-first-use", "py3-meter-1", "89441000000000000018",
            imei="490154203237518", imsi="001010123456789")
    request(conn, "binary-rekey", "py3-meter-1", "89441000000000000018",
            imeisv="4901542032375101")
    request(conn, "text-rekey", "py3-meter-1", "89441000000000000018", binary=False)
    request(conn, "binary-thief", "py3-thief", "89441000000000000018")
    # The administration functions from str parameters too.
    bid = conn.execute("SELECT mtcbind.bind(%b, %b, %b)",
                       ("py3-meter-2", "8944 1000 0000 0000 0026", "35-123456-000002-8"),
                       binary=True).fetchone()[0]
    print("binary-bind", "bound" if bid > 0 else "failed", "-", 0)
    try:
        conn.execute(SQL_BINARY, (NAF_ID, BTID, KS, datetime.datetime.now(datetime.timezone.utc),
                           "py3-meter-3", "89441000000000000019", None, None, None, "", ""),
                     binary=True)
    except psycopg.Error as e:
        print("binary-bad-iccid", e.sqlstate, "-", 0)
