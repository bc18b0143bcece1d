# The programs a boot image needs for a manifest: init, every service's
# binary=, the programs the ProgramLauncher service (binary=programs) may
# run (the words of its args line), and capos-shell when the manifest has
# the RestrictedShellLauncher (binary=launcher), which starts only that
# program. Prints one name a line.
BEGIN { print "init" }
{ sub(/#.*/, "") }
/^service / {
    launcher = 0
    for (i = 3; i <= NF; i++)
        if ($i ~ /^binary=/) { b = substr($i, 8); print b; launcher = (b == "programs")
                                 if (b == "launcher") print "capos-shell" }
    next
}
/^[ \t]*args / && launcher { for (i = 2; i <= NF; i++) print $i }
