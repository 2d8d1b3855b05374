# chart.gp - make bench's chart: CPU per token request and req/s for
# RoomKey and the two peers. Variables: datafile (label cpu_us rps per
# line), outfile (SVG), subtitle.
set terminal svg size 860,400 font "sans,12" background rgb "white"
set output outfile
set multiplot layout 1,2 title "POST /api/livekit/token, ".subtitle
set style data histograms
set style histogram clustered gap 1
set bmargin 4
set offsets 0, 0, graph 0.12, 0
set style fill solid 0.85 border -1
set grid ytics
set yrange [0:*]
unset key
set title "server CPU per request (us, lower is better)"
plot datafile using 2:xtic(1) linecolor rgb "#2b6cb0", \
     '' using 0:2:(sprintf("%.1f", $2)) with labels offset 0,0.8 notitle
set title "requests per second (higher is better)"
plot datafile using 3:xtic(1) linecolor rgb "#2f855a", \
     '' using 0:3:(sprintf("%.0f", $3)) with labels offset 0,0.8 notitle
unset multiplot
