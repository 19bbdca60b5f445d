# noop-migrate.gp - the no-op migrate series written by bench/migrate.sh:
#	gnuplot -e "dat='build/bench/noop.dat'; out='bench/noop-migrate.png'" \
#		bench/noop-migrate.gp
# Columns of dat: applied, entrypoint, dbmate, psql, floor (ms; NaN = n/a).
if (!exists("dat")) dat = 'build/bench/noop.dat'
if (!exists("out")) out = 'bench/noop-migrate.png'
if (!exists("us")) us = 'entrypoint'
set terminal pngcairo size 720,440 font 'DejaVu Sans,10'
set output out
set title 'No-op migrate as the applied list grows (median wall time)'
set xlabel 'migrations applied'
set ylabel 'ms (log scale)'
set logscale xy
set xrange [7:4500]
set format y '%g'
set grid xtics ytics mytics lc rgb '#dddddd'
set key top left
set datafile missing 'NaN'
plot dat using 1:2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'entrypoint migrate ('.us.')', \
     dat using 1:3 with linespoints lw 2 pt 5 lc rgb '#1f77b4' title 'dbmate up', \
     dat using 1:4 with linespoints lw 2 pt 9 lc rgb '#2ca02c' title 'psql -Atc (read the applied list)', \
     dat using 1:5 with linespoints lw 2 pt 13 lc rgb '#7f7f7f' title 'libpq floor (bench/floor.c)'
