/* shelfline-customer-value: see cv_service.h. */
#include "cv_service.h"

int main(int argc, char **argv)
{
    return sl_service_main(&cv_service_spec, argc, argv);
}
