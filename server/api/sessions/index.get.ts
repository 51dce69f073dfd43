import { devicesOf, type Devices } from '../../utils/devices'

/** The caller's signed-in devices, this one marked; 401 signed out. */
export default defineEventHandler(async (event): Promise<Devices> => {
  const { store, devices } = await devicesOf(event)
  return { store: store.name, devices }
})
