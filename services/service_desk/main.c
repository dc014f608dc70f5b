/* shelfline-service-desk: see sd_service.h. */
#include "sd_service.h"

int main(int argc, char **argv)
{
    return sl_service_main(&sd_service_spec, argc, argv);
}
