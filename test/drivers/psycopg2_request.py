#!/usr/bin/python3
"""A NAF front end written with psycopg2, which splices parameters into the
statement text on the client: Ks_int_NAF travels inside the SQL string.
Run with the role given on the command line; prints the outcome."""
import sys

import psycopg2

dsn, terminal_id, iccid = sys.argv[1], sys.argv[2], sys.argv[3]
KS = bytes(range(0xa0, 0xc0))          # a key the test looks for in the log
conn = psycopg2.connect(dsn)
cur = conn.cursor()
cur.execute("""SELECT outcome FROM mtcbind.request_key(%s, %s, %s, now() + interval '1 day', %s, %s)""",
            (psycopg2.Binary(b"naf.example.org\x01\x00\x00\x00\x02"),
             "I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org", psycopg2.Binary(KS), terminal_id, iccid))
print(cur.fetchone()[0])
conn.commit()
# A failing statement with the key in it: what log_min_error_statement logs.
try:
    cur.execute("""SELECT outcome FROM mtcbind.request_key(%s, %s, %s, now() + interval '1 day', %s, %s)""",
                (psycopg2.Binary(b"naf.example.org\x01\x00\x00\x00\x02"),
                 "I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org", psycopg2.Binary(KS), terminal_id,
                 "89441000000000000019"))
except psycopg2.Error as e:
    print(e.pgcode)
conn.close()
