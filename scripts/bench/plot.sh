#!/usr/bin/env bash
# Plots tps against clients from a results directory of scripts/bench/run.sh
# (its summary.tsv): one panel per path, with its floor and, when measured,
# the PL/pgSQL + pgcrypto alternative.  Needs gnuplot (Debian: gnuplot-nox).
#   usage: bash scripts/bench/plot.sh <results dir> [output.png, default docs/performance-tps.png]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
res=${1:?usage: plot.sh <results dir> [output.png]}
out=${2:-$top/docs/performance-tps.png}
summary=$res/summary.tsv
[ -f "$summary" ] || { echo "plot: $summary not found" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One data file per path: clients, path tps, floor tps, alt tps ("NaN" when absent).
paths=(rekey_off rekey_on first_use refusal)
for p in "${paths[@]}"; do
    awk -F'\t' -v p="$p" 'NR > 1 && $1 == p {
        printf "%s %s %s %s\n", $3, ($4 == "" ? "NaN" : $4), ($8 == "" ? "NaN" : $8), ($12 == "" ? "NaN" : $12) }' \
        "$summary" > "$tmp/$p.dat"
done
label() { awk -F'\t' -v p="$1" 'NR > 1 && $1 == p { print $2; exit }' "$summary"; }
floor() { awk -F'\t' -v p="$1" 'NR > 1 && $1 == p { print $7; exit }' "$summary"; }
when=$(awk -F'\t' '$1 == "postgresql" { split($2, v, " "); pg = v[1] " " v[2] } $1 == "cpu" { cpu = $2 } END { print pg ", " cpu }' "$res/env.tsv" 2>/dev/null || true)
quick=$(grep -q 'QUICK RUN' "$res/report.txt" 2>/dev/null && echo ' — QUICK RUN' || true)
clients=$(awk -F'\t' 'NR > 1 { print $3 }' "$summary" | sort -n | uniq | paste -sd' ')

{
    echo "set terminal pngcairo noenhanced size 1200,900 font 'DejaVu Sans,10'"
    echo "set output '$out'"
    echo "set multiplot layout 2,2 title \"mtcbind request_key: tps against clients (median of runs)$quick\\n$when\""
    echo "set logscale x 2"
    echo "set xtics ($(for c in $clients; do printf '"%s" %s,' "$c" "$c"; done | sed 's/,$//'))"
    # a margin either side, so that the first and last client counts get their labels
    echo "set xrange [$(awk -v c="${clients%% *}" 'BEGIN { print c * 0.8 }'):$(awk -v c="${clients##* }" 'BEGIN { print c * 1.25 }')]"
    echo "set xlabel 'clients'"
    echo "set ylabel 'transactions per second'"
    echo "set yrange [0:*]"
    echo "set grid ytics"
    echo "set key below"
    echo "set datafile missing 'NaN'"
    for p in "${paths[@]}"; do
        f=$(floor "$p")
        [ "$f" = read ] && f="indexed read of the binding row" || f="same writes in plain SQL"
        echo "set title '$(label "$p")'"
        plot="plot '$tmp/$p.dat' using 1:2 with linespoints lw 2 pt 7 title 'mtcbind', '' using 1:3 with linespoints lw 2 pt 5 dt 2 title 'floor: $f'"
        if awk '$4 != "NaN" { found = 1 } END { exit !found }' "$tmp/$p.dat"; then
            plot="$plot, '' using 1:4 with linespoints lw 2 pt 9 dt 3 title 'PL/pgSQL + pgcrypto'"
        fi
        echo "$plot"
    done
    echo "unset multiplot"
} > "$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
echo "plot: $out" >&2
