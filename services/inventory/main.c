/* shelfline-inventory: see inv_service.h. */
#include "inv_service.h"

int main(int argc, char **argv)
{
    return sl_service_main(&inv_service_spec, argc, argv);
}
