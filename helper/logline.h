#pragma once
/*
 * One log line in FDLogHandler's shape (Sources/SandboxPlan/Log.swift):
 * "DATE TIME.us sandbox[PID] LEVEL sandbox.engine: TEXT", one write(2), so a -o
 * file reads the same whichever program image wrote a line. Used by the small
 * programs a supervisor and a launcher become (sandbox-monitor, sandbox-session).
 */
void sbx_log_line(int fd, const char *level, const char *text);
