/* shelfline-forecasting: see fc_service.h. */
#include "fc_service.h"

int main(int argc, char **argv)
{
    return sl_service_main(&fc_service_spec, argc, argv);
}
