#pragma once
#include <X11/Xlib.h>
#include <X11/Xauth.h>
#include <X11/extensions/security.h>
