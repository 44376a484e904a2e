/*
 * milenage.h: the MILENAGE functions f1, f1*, f2, f3, f4, f5 and f5* of
 * 3GPP TS 35.206, on AES-128 (OpenSSL EVP).  Checked against the test sets
 * of TS 35.208 (test/sim/test_units.c).
 */
#ifndef SIM_MILENAGE_H
#define SIM_MILENAGE_H

#include <stdint.h>

#define MIL_K_LEN    16
#define MIL_RAND_LEN 16
#define MIL_SQN_LEN  6
#define MIL_AMF_LEN  2
#define MIL_MAC_LEN  8
#define MIL_RES_LEN  8
#define MIL_CK_LEN   16
#define MIL_IK_LEN   16
#define MIL_AK_LEN   6
#define MIL_AUTN_LEN 16			/* SQN xor AK || AMF || MAC-A */
#define MIL_AUTS_LEN 14			/* SQN_MS xor AK* || MAC-S */

/* OPc = E_K(OP) xor OP.  All functions return 0, or -1 if OpenSSL failed. */
int milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16]);

/* f1 (MAC-A) and f1* (MAC-S); either output may be NULL. */
int milenage_f1(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
				const uint8_t sqn[6], const uint8_t amf[2],
				uint8_t mac_a[8], uint8_t mac_s[8]);

/* f2 (RES), f3 (CK), f4 (IK), f5 (AK), f5* (AK*); any output may be NULL. */
int milenage_f2345(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
				   uint8_t res[8], uint8_t ck[16], uint8_t ik[16],
				   uint8_t ak[6], uint8_t ak_star[6]);

#endif
