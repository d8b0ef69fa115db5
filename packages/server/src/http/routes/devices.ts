import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { devicePresets } from '../../engine/devices.js';
import { answerObject, jsonResponse } from '../openapi.js';

const size = answerObject({ width: { type: 'integer' }, height: { type: 'integer' } });
const DEVICE_LIST_SCHEMA = answerObject({
  devices: {
    type: 'array',
    items: {
      type: 'object',
      required: ['name', 'viewport', 'screen', 'device_scale_factor', 'mobile', 'touch', 'user_agent'],
      properties: {
        name: { type: 'string', example: 'iPhone 15' },
        viewport: size,
        screen: size,
        device_scale_factor: { type: 'number', example: 3 },
        mobile: { type: 'boolean' },
        touch: { type: 'boolean' },
        user_agent: { type: 'string' },
      },
    },
  },
});

/** GET /devices: the presets viewport_device accepts (public: a fixed list, like the API reference). */
const route: () => FastifyPluginAsyncZod = () => async (app) => {
  app.get(
    '/devices',
    {
      config: { auth: 'none' },
      schema: {
        summary: 'Device presets for viewport_device',
        description:
          "Every device name viewport_device accepts (names ignore case), with the viewport, pixel density, mobile and touch flags and user agent it applies. From playwright-core's maintained device list.",
        tags: ['screenshot'],
        openapi: {
          responses: {
            200: {
              ...jsonResponse('The device presets (cacheable for an hour)', DEVICE_LIST_SCHEMA),
              headers: { 'Cache-Control': { type: 'string', example: 'public, max-age=3600' } },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      const devices = devicePresets().map((device) => ({
        name: device.name,
        viewport: { width: device.width, height: device.height },
        screen: { width: device.screenWidth, height: device.screenHeight },
        device_scale_factor: device.deviceScaleFactor,
        mobile: device.mobile,
        touch: device.touch,
        user_agent: device.userAgent,
      }));
      return reply.header('cache-control', 'public, max-age=3600').send({ devices });
    },
  );
};

export default route;
